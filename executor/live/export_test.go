package live

// SplitTS cuts a whole MPEG-TS stream at its video keyframes (tests).
func SplitTS(data []byte) [][]byte {
	var segs [][]byte
	sp := newSplitter(
		func() error { segs = append(segs, nil); return nil },
		func(b []byte) error { segs[len(segs)-1] = append(segs[len(segs)-1], b...); return nil },
		func() error { return nil })
	if _, err := sp.Write(data); err != nil {
		return nil
	}
	sp.Close()
	return segs
}
