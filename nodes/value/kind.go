package value

// Kind says what a Value holds.
type Kind uint8

const (
	// None is the zero Kind: no value (an optional input left unconnected).
	None Kind = iota
	// Image is a float32 NHWC tensor [B,H,W,C], values 0..1: C = 3 (RGB)
	// or, from the nodes that make one (JoinImageWithAlpha), 4 (RGBA with
	// straight alpha, as ComfyUI's IMAGE with an alpha channel). Kernels
	// that need RGB check C in Prepare.
	Image
	// Mask is a float32 tensor [B,H,W], values 0..1.
	Mask
	// Int is a signed 64-bit integer (ComfyUI INT).
	Int
	// Float is a float64 (ComfyUI FLOAT).
	Float
	// String is a string (ComfyUI STRING, and the chosen value of a combo).
	String
	// Bool is a boolean (ComfyUI BOOLEAN).
	Bool
	// Handle is an opaque value owned by the kernel that made it: MODEL,
	// CLIP, VAE, CONDITIONING and every other model-typed value.
	Handle
	// Latent is ComfyUI's LATENT as a float32 NCHW tensor [B,C,H,W]: the
	// "samples" entry of ComfyUI's latent dict (C = 4 and H, W the picture's
	// eighth for SD1.5/SDXL). The dict's other entries (noise_mask,
	// batch_index) are not carried.
	Latent
)

// String returns ComfyUI's type name for the kind ("IMAGE", "MASK", "INT",
// "FLOAT", "STRING", "BOOLEAN", "LATENT", "AUDIO"), "HANDLE" for handles and "NONE"
// for None.
func (k Kind) String() string {
	switch k {
	case Image:
		return "IMAGE"
	case Mask:
		return "MASK"
	case Int:
		return "INT"
	case Float:
		return "FLOAT"
	case String:
		return "STRING"
	case Bool:
		return "BOOLEAN"
	case Handle:
		return "HANDLE"
	case Latent:
		return "LATENT"
	case Audio:
		return "AUDIO"
	}
	return "NONE"
}

// IsTensor reports whether values of the kind hold a Tensor (Image, Mask,
// Latent, Audio).
func (k Kind) IsTensor() bool { return k == Image || k == Mask || k == Latent || k == Audio }

// IsScalar reports whether values of the kind are an Int, Float, String or
// Bool.
func (k Kind) IsScalar() bool { return k >= Int && k <= Bool }

// KindOf returns the Kind that carries values of a ComfyUI type name:
// IMAGE, MASK, INT, FLOAT, STRING, BOOLEAN, COMBO (a String), LATENT,
// AUDIO; "" gives None; every other type (MODEL, "*", unions…) is a Handle.
func KindOf(comfyType string) Kind {
	switch comfyType {
	case "IMAGE":
		return Image
	case "MASK":
		return Mask
	case "INT":
		return Int
	case "FLOAT":
		return Float
	case "STRING", "COMBO":
		return String
	case "BOOLEAN":
		return Bool
	case "LATENT":
		return Latent
	case "AUDIO":
		return Audio
	case "":
		return None
	}
	return Handle
}
