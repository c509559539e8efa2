package torchrand

// Mersenne Twister MT19937 parameters (Matsumoto and Nishimura, 1998).
const (
	mtN         = 624
	mtM         = 397
	mtMatrixA   = 0x9908b0df
	mtUpperMask = 0x80000000
	mtLowerMask = 0x7fffffff
)

// mt19937 is the 32-bit Mersenne Twister with the standard initialisation
// (init_genrand), as at::mt19937.
type mt19937 struct {
	state [mtN]uint32
	next  int
}

func (m *mt19937) seed(s uint32) {
	m.state[0] = s
	for i := 1; i < mtN; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.next = mtN
}

func (m *mt19937) twist() {
	st := &m.state
	mix := func(i, j, k int) {
		y := (st[i] & mtUpperMask) | (st[j] & mtLowerMask)
		v := st[k] ^ (y >> 1)
		if y&1 != 0 {
			v ^= mtMatrixA
		}
		st[i] = v
	}
	i := 0
	for ; i < mtN-mtM; i++ {
		mix(i, i+1, i+mtM)
	}
	for ; i < mtN-1; i++ {
		mix(i, i+1, i+mtM-mtN)
	}
	mix(mtN-1, 0, mtM-1)
	m.next = 0
}

func (m *mt19937) uint32() uint32 {
	if m.next >= mtN {
		m.twist()
	}
	y := m.state[m.next]
	m.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}
