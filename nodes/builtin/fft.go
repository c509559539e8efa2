package builtin

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fftPlan is a discrete Fourier transform of one length, prepared once so
// that transforms do not allocate: an iterative radix-2 transform for powers
// of two, Bluestein's chirp-z algorithm (three radix-2 transforms of a
// power of two at least 2n−1) for every other length.
type fftPlan struct {
	n   int
	pow *radix2 // n is a power of two
	// Bluestein: chirp[k] = exp(−iπk²/n), kernel = FFT of the conjugate
	// chirp wrapped to m, work a buffer of m.
	inner  *radix2
	chirp  []complex128
	kernel []complex128
	work   []complex128
}

func newFFTPlan(n int) *fftPlan {
	p := &fftPlan{n: n}
	if n&(n-1) == 0 {
		p.pow = newRadix2(n)
		return p
	}
	m := 1 << bits.Len(uint(2*n-2))
	p.inner = newRadix2(m)
	p.chirp = make([]complex128, n)
	for k := range n {
		// k² mod 2n keeps the angle exact for long transforms.
		q := (uint64(k) * uint64(k)) % uint64(2*n)
		p.chirp[k] = cmplx.Exp(complex(0, -math.Pi*float64(q)/float64(n)))
	}
	p.kernel = make([]complex128, m)
	p.kernel[0] = cmplx.Conj(p.chirp[0])
	for k := 1; k < n; k++ {
		c := cmplx.Conj(p.chirp[k])
		p.kernel[k], p.kernel[m-k] = c, c
	}
	p.inner.transform(p.kernel, false)
	p.work = make([]complex128, m)
	return p
}

// transform replaces x (length n) by its DFT, or by its inverse DFT
// without the 1/n factor when inverse is set.
func (p *fftPlan) transform(x []complex128, inverse bool) {
	if p.pow != nil {
		p.pow.transform(x, inverse)
		return
	}
	if inverse { // conj(DFT(conj(x)))
		for i := range x {
			x[i] = cmplx.Conj(x[i])
		}
	}
	w := p.work
	clear(w)
	for k, v := range x {
		w[k] = v * p.chirp[k]
	}
	p.inner.transform(w, false)
	for i := range w {
		w[i] *= p.kernel[i]
	}
	p.inner.transform(w, true)
	scale := 1 / float64(len(w))
	for k := range x {
		x[k] = w[k] * p.chirp[k] * complex(scale, 0)
	}
	if inverse {
		for i := range x {
			x[i] = cmplx.Conj(x[i])
		}
	}
}

// radix2 is an in-place iterative radix-2 transform of a power-of-two
// length.
type radix2 struct {
	n   int
	rev []int
	tw  []complex128 // exp(−2πik/n), k < n/2
}

func newRadix2(n int) *radix2 {
	r := &radix2{n: n, rev: make([]int, n), tw: make([]complex128, n/2)}
	shift := bits.Len(uint(n)) - 1
	for i := range n {
		if shift > 0 {
			r.rev[i] = int(bits.Reverse(uint(i)) >> (bits.UintSize - shift))
		}
	}
	for k := range r.tw {
		s, c := math.Sincos(-2 * math.Pi * float64(k) / float64(n))
		r.tw[k] = complex(c, s)
	}
	return r
}

func (r *radix2) transform(x []complex128, inverse bool) {
	n := r.n
	for i, j := range r.rev {
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half, step := size/2, n/size
		for start := 0; start < n; start += size {
			for k := range half {
				w := r.tw[k*step]
				if inverse {
					w = cmplx.Conj(w)
				}
				a, b := x[start+k], x[start+k+half]*w
				x[start+k], x[start+k+half] = a+b, a-b
			}
		}
	}
}
