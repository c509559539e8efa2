//go:build cgo

package av

// freer is an astiav object released with Free (a frame, a packet, a
// codec context, a format context).
type freer interface {
	comparable
	Free()
}

// release frees each of the objects the fields hold and clears the
// fields, so that freeing twice is harmless; an empty field is skipped.
func release[T freer](fields ...*T) {
	var none T
	for _, f := range fields {
		if *f != none {
			(*f).Free()
			*f = none
		}
	}
}
