package builtin

import (
	"fmt"
	"math"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// sepConv convolves each channel of a batch of NHWC pictures with a
// separable, symmetric kernel of radius r, reflecting at the borders
// without repeating the edge sample (torch's "reflect" padding, OpenCV's
// BORDER_REFLECT_101). Unlike torch, which rejects padding as large as the
// picture, the reflection repeats as needed.
type sepConv struct {
	b, h, w, c int
	r          int
	k          []float32 // 2r+1 taps
	tmp        []float32 // one picture
}

func newSepConv(b, h, w, c int, k []float32) *sepConv {
	return &sepConv{b: b, h: h, w: w, c: c, r: len(k) / 2, k: k, tmp: make([]float32, h*w*c)}
}

// reflect101 maps any index onto [0,n) by reflection about the edge
// samples: −1 → 1, n → n−2.
func reflect101(i, n int) int {
	if n == 1 {
		return 0
	}
	p := 2 * (n - 1)
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - i
	}
	return i
}

func (s *sepConv) run(dst, src []float32) {
	pic := s.h * s.w * s.c
	for b := range s.b {
		s.hpass(s.tmp, src[b*pic:(b+1)*pic])
		s.vpass(dst[b*pic:(b+1)*pic], s.tmp)
	}
}

// hpass convolves every row along x.
func (s *sepConv) hpass(dst, src []float32) {
	c, w, r, k := s.c, s.w, s.r, s.k
	rowLen := w * c
	for y := range s.h {
		row, drow := src[y*rowLen:(y+1)*rowLen], dst[y*rowLen:(y+1)*rowLen]
		for x := range w {
			if x >= r && x+r < w && c == 3 {
				// Interior, RGB: taps paired about the centre.
				p := row[3*x : 3*x+3 : 3*x+3]
				kc := k[r]
				a0, a1, a2 := kc*p[0], kc*p[1], kc*p[2]
				for j := 1; j <= r; j++ {
					l, q := row[3*(x-j):3*(x-j)+3:3*(x-j)+3], row[3*(x+j):3*(x+j)+3:3*(x+j)+3]
					kj := k[r+j]
					a0 += kj * (l[0] + q[0])
					a1 += kj * (l[1] + q[1])
					a2 += kj * (l[2] + q[2])
				}
				d := drow[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = a0, a1, a2
				continue
			}
			for ch := range c {
				var a float32
				for j := -r; j <= r; j++ {
					a += k[r+j] * row[reflect101(x+j, w)*c+ch]
				}
				drow[x*c+ch] = a
			}
		}
	}
}

// vpass convolves along y, a row at a time.
func (s *sepConv) vpass(dst, src []float32) {
	n, r, k := s.w*s.c, s.r, s.k
	for y := range s.h {
		d := dst[y*n : (y+1)*n]
		kc := k[r]
		for x, v := range src[y*n : (y+1)*n] {
			d[x] = kc * v
		}
		for j := 1; j <= r; j++ {
			kj := k[r+j]
			up, down := reflect101(y-j, s.h), reflect101(y+j, s.h)
			u, v := src[up*n:(up+1)*n], src[down*n:(down+1)*n]
			for x := range d {
				d[x] += kj * (u[x] + v[x])
			}
		}
	}
}

// comfyGaussian1D is the separable factor of nodes_post_processing.py
// gaussian_kernel: exp(−t²/(2σ²)) over t = linspace(−1, 1, size),
// normalized. The 2-D kernel ComfyUI builds, exp(−(x²+y²)/(2σ²)) divided
// by its sum, is the outer product of this one with itself.
func comfyGaussian1D(size int, sigma float64) []float32 {
	k := make([]float32, size)
	var sum float64
	for i := range size {
		t := -1 + 2*float64(i)/float64(size-1)
		g := math.Exp(-(t * t) / (2 * sigma * sigma))
		k[i] = float32(g)
		sum += g
	}
	for i := range k {
		k[i] = float32(float64(k[i]) / sum)
	}
	return k
}

// opencvGaussian1D is cv2.getGaussianKernel(size, sigma): exp(−x²/(2σ²))
// over x = i − (size−1)/2, normalized; σ ≤ 0 means
// 0.3·((size−1)/2 − 1) + 0.8, and then sizes up to 7 use OpenCV's fixed
// tables.
func opencvGaussian1D(size int, sigma float64) []float32 {
	k := make([]float32, size)
	opencvGaussianInto(k, make([]float64, size), sigma)
	return k
}

// opencvGaussianInto writes opencvGaussian1D(len(k), sigma) into k, using
// g (as long as k) as scratch; it does not allocate.
func opencvGaussianInto(k []float32, g []float64, sigma float64) {
	size := len(k)
	if sigma <= 0 && size <= 7 {
		small := [...][]float64{
			{1},
			{0.25, 0.5, 0.25},
			{0.0625, 0.25, 0.375, 0.25, 0.0625},
			{0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125},
		}
		for i, v := range small[size/2] {
			k[i] = float32(v)
		}
		return
	}
	if sigma <= 0 {
		sigma = 0.3*(float64(size-1)*0.5-1) + 0.8
	}
	var sum float64
	for i := range size {
		x := float64(i) - float64(size-1)/2
		g[i] = math.Exp(-(x * x) / (2 * sigma * sigma))
		sum += g[i]
	}
	for i := range k {
		k[i] = float32(g[i] / sum)
	}
}

// imageBlur mirrors nodes_post_processing.py Blur (ImageBlur): a Gaussian
// of size 2·blur_radius+1 over linspace(−1,1) with reflect padding.
type imageBlur struct {
	base
	conv *sepConv
	n    int
}

func newImageBlur(cfg nodes.Config) (nodes.Kernel, error) { return &imageBlur{base: base{cfg}}, nil }

func (k *imageBlur) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "blur_radius", "sigma")
	b, h, w, c := a.image(0)
	r, sigma := a.int(1), a.float(2)
	if r < 0 {
		a.errorf(1, "must not be negative, got %d", r)
	}
	if sigma <= 0 {
		a.errorf(2, "must be positive, got %v", sigma)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.n, k.conv = in[0].Elems(), nil
	if r > 0 { // blur_radius 0 passes the image through, as ComfyUI does
		k.conv = newSepConv(b, h, w, c, comfyGaussian1D(int(2*r+1), sigma))
	}
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *imageBlur) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	if k.conv == nil {
		copy(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
		return nil
	}
	k.conv.run(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
	return nil
}

// imageSharpen mirrors nodes_post_processing.py Sharpen (ImageSharpen): the
// kernel −10α·G with 1 + 10α·ΣG added at the centre, reflect padding,
// clamped to [0,1] — that is clamp(x + 10α·(x − G∗x)), computed so.
type imageSharpen struct {
	base
	conv  *sepConv
	n     int
	alpha float32
}

func newImageSharpen(cfg nodes.Config) (nodes.Kernel, error) {
	return &imageSharpen{base: base{cfg}}, nil
}

func (k *imageSharpen) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "image", "sharpen_radius", "sigma", "alpha")
	b, h, w, c := a.image(0)
	r, sigma, alpha := a.int(1), a.float(2), a.float(3)
	if r < 0 {
		a.errorf(1, "must not be negative, got %d", r)
	}
	if sigma <= 0 {
		a.errorf(2, "must be positive, got %v", sigma)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	k.n, k.conv, k.alpha = in[0].Elems(), nil, float32(alpha*10)
	if r > 0 { // sharpen_radius 0 passes the image through
		k.conv = newSepConv(b, h, w, c, comfyGaussian1D(int(2*r+1), sigma))
	}
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *imageSharpen) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	src, dst := in[0].Tensor.Data[:k.n], out[0].Tensor.Data[:k.n]
	if k.conv == nil {
		copy(dst, src)
		return nil
	}
	k.conv.run(dst, src)
	for i, x := range src {
		dst[i] = clamp01(x + k.alpha*(x-dst[i]))
	}
	return nil
}

// gaussianBlur mirrors ComfyUI-Background-Edit GaussianBlur: OpenCV's
// Gaussian of kernel_size (odd) and sigma in pixels, BORDER_REFLECT_101.
// Both modes ("cuda" through CV-CUDA, "cpu" through cv2 on bytes) are
// accepted and computed here on the CPU in float32, without the byte
// rounding of the "cpu" mode.
type gaussianBlur struct {
	base
	conv *sepConv
	n    int
	// sigma is read on every Run when it is linked to a per-frame node
	// (an IntegerMotionController, say): live, the value the taps were
	// last made for, and the scratch of opencvGaussianInto.
	live  bool
	sigma float64
	g     []float64
}

func newGaussianBlur(cfg nodes.Config) (nodes.Kernel, error) {
	return &gaussianBlur{base: base{cfg}}, nil
}

func (k *gaussianBlur) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, "images", "kernel_size", "sigma", "mode")
	b, h, w, c := a.image(0)
	size := a.int(1)
	k.live = false
	var sigma float64
	switch s := a.spec(2); {
	case s.Const == nil && (s.Kind == value.Float || s.Kind == value.Int):
		k.live = true
	default:
		sigma = a.float(2)
	}
	a.choice(3, "cuda", "cpu")
	if size < 1 || size%2 == 0 {
		a.errorf(1, "must be odd and positive (OpenCV's rule), got %d", size)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if size > 4*int64(max(h, w))+1 {
		return nil, fmt.Errorf("input kernel_size: %d is far larger than the %dx%d image", size, w, h)
	}
	k.n = in[0].Elems()
	k.conv = newSepConv(b, h, w, c, opencvGaussian1D(int(size), sigma))
	k.sigma, k.g = sigma, make([]float64, size)
	return []value.Spec{value.TensorSpec(value.Image, in[0].Shape...)}, nil
}

func (k *gaussianBlur) Run(in, out []value.Value) error {
	if err := checkTensor(in[0], k.n, "image"); err != nil {
		return err
	}
	if k.live {
		var sigma float64
		switch v := in[2]; v.Kind {
		case value.Float:
			sigma = v.Float
		case value.Int:
			sigma = float64(v.Int)
		default:
			return fmt.Errorf("input sigma: want FLOAT, got %s", v.Kind)
		}
		if math.IsNaN(sigma) || math.IsInf(sigma, 0) {
			return fmt.Errorf("input sigma: %v is not a number of pixels", sigma)
		}
		if sigma != k.sigma {
			opencvGaussianInto(k.conv.k, k.g, sigma)
			k.sigma = sigma
		}
	}
	k.conv.run(out[0].Tensor.Data[:k.n], in[0].Tensor.Data)
	return nil
}
