package live

import "time"

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

// SetLoadDelay delays every workflow load by d (a slow load); the
// returned func restores the default.
func SetLoadDelay(d time.Duration) (restore func()) {
	testLoadDelay.Store(int64(d))
	return func() { testLoadDelay.Store(0) }
}
