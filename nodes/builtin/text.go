package builtin

import (
	"fmt"
	"image"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/colornames"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// textRenderer mirrors ComfyUI_RealTimeNodes TextRenderer (misc_nodes.py):
// str(any) drawn with Pillow into a width×height RGBA picture filled with
// background_color, in font_color at font_size pixels; the IMAGE is its
// RGB and the MASK the text's coverage times the picture's alpha.
//
// Layout follows Pillow's multiline text as the node uses it: with
// wrap_width > 0 the text is first wrapped at max(1, int(wrap_width /
// (font_size/2))) characters (Python's textwrap, greedy, long words broken;
// hyphenated words are not split at their hyphens here); lines are
// font ascent + 4 pixels apart (Pillow's spacing under the "A" line); each
// line is shifted by align within the widest line's advance; the block's
// bounding box (w, h) places its origin at x = 0, (width−w)//2 or width−w
// (left, center, right) plus x_offset, and y = (height−h)//2 + y_offset,
// the origin being the first line's ascender, as Pillow's "la" anchor.
// Colours are Pillow's names (the CSS/SVG list), #rgb, #rgba, #rrggbb,
// #rrggbbaa, rgb(r,g,b) and rgba(r,g,b,a); text is blended into the
// picture per channel, alpha included, with 8-bit rounding as Pillow's
// fill does.
//
// Deviation: comfyrt has no system fonts and ships none of its own, so the
// text is set in the Go font (golang.org/x/image/font/gofont/goregular)
// rather than the pack's DejaVu Sans: glyph shapes and metrics differ, and
// so do pixels; the layout rules above are the same. Metrics are taken as
// FreeType gives them to Pillow (ascender rounded up to a pixel, hinted
// whole-pixel advances); a test compares the result with Pillow drawing
// the same Go font (testdata/text_renderer.json): the text's ink lands
// within 2 pixels of Pillow's.
//
// The text may change per frame (a linked STRING, INT, FLOAT or BOOLEAN,
// converted as Python's str() does); the picture is drawn again only when
// it changes, so Run costs a copy otherwise.
type textRenderer struct {
	base
	w, h       int
	size       float64
	fg, bg     [4]uint8
	xOff, yOff int
	align      int // 0 left, 1 center, 2 right
	wrap       int
	face       font.Face
	cov        *image.Alpha // text coverage of the last text
	rgb, mask  []float32    // the rendered outputs
	text       string
	drawn      bool
	constText  *value.Value
	last       value.Value // the input last drawn
}

// sameTextInput reports whether two scalar values are the same (without
// converting them to text, which would allocate).
func sameTextInput(a, b value.Value) bool {
	return a.Kind == b.Kind && a.Int == b.Int && a.Bool == b.Bool && a.Str == b.Str &&
		math.Float64bits(a.Float) == math.Float64bits(b.Float)
}

func newTextRenderer(cfg nodes.Config) (nodes.Kernel, error) {
	return &textRenderer{base: base{cfg}}, nil
}

var goRegular = sync.OnceValues(func() (*opentype.Font, error) { return opentype.Parse(goregular.TTF) })

var textInputs = []string{"any", "width", "height", "font_size", "font_color", "background_color", "x_offset", "y_offset", "align", "wrap_width"}

func (k *textRenderer) Prepare(in []value.Spec) ([]value.Spec, error) {
	a := newArgs(in, textInputs...)
	anySpec := a.spec(0)
	switch {
	case anySpec.Kind == value.None:
		a.errorf(0, "required input is missing")
	case !anySpec.Kind.IsScalar():
		a.errorf(0, "%s cannot be rendered as text (want STRING, INT, FLOAT or BOOLEAN)", anySpec.Kind)
	}
	w, h, size := a.int(1), a.int(2), a.int(3)
	for i, v := range []int64{w, h} {
		a.positive(1+i, v)
		if v > maxCanvasSide {
			a.errorf(1+i, "%d is more than %d pixels", v, maxCanvasSide)
		}
	}
	if size < 1 || size > 4096 {
		a.errorf(3, "must be within [1, 4096], got %d", size)
	}
	fg, bg := a.pillowRGBA(4), a.pillowRGBA(5)
	xo, yo := a.int(6), a.int(7)
	align := a.choice(8, "left", "center", "right")
	wrap := a.int(9)
	notNegative(a, 9, wrap)
	if err := a.Err(); err != nil {
		return nil, err
	}
	f, err := goRegular()
	if err != nil {
		return nil, fmt.Errorf("the Go font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("input font_size: %w", err)
	}
	*k = textRenderer{base: k.base, w: int(w), h: int(h), size: float64(size), fg: fg, bg: bg,
		xOff: int(max(min(xo, maxCanvasSide), -maxCanvasSide)), yOff: int(max(min(yo, maxCanvasSide), -maxCanvasSide)),
		align: align, wrap: int(min(wrap, maxCanvasSide)), face: face, constText: anySpec.Const}
	k.cov = image.NewAlpha(image.Rect(0, 0, k.w, k.h))
	k.rgb, k.mask = make([]float32, 3*k.w*k.h), make([]float32, k.w*k.h)
	return []value.Spec{value.ImageSpec(1, k.h, k.w), value.MaskSpec(1, k.h, k.w)}, nil
}

// pillowRGBA reads a colour parameter as Pillow's ImageColor.getcolor(s, "RGBA").
func (a *args) pillowRGBA(i int) [4]uint8 {
	n := len(a.errs)
	s := a.str(i)
	if len(a.errs) > n {
		return [4]uint8{}
	}
	c, err := pillowColor(s)
	if err != nil {
		a.errorf(i, "%v", err)
	}
	return c
}

// Scratch is the rendered picture and mask (floats), the coverage plane
// and the font face's glyph buffers (a fixed allowance).
func (k *textRenderer) Scratch(in []value.Spec) (int64, error) {
	a := newArgs(in, textInputs...)
	w, h := a.int(1), a.int(2)
	if a.Err() != nil || w < 1 || h < 1 || w > maxCanvasSide || h > maxCanvasSide {
		return 0, nil
	}
	return addSat(mulSat(17, w, h), 256<<10), nil
}

func (k *textRenderer) Run(in, out []value.Value) error {
	if k.face == nil {
		return errNotPrepared
	}
	v := in[0]
	if k.constText != nil {
		v = *k.constText
	}
	if k.drawn && sameTextInput(v, k.last) {
		copy(out[0].Tensor.Data[:len(k.rgb)], k.rgb)
		copy(out[1].Tensor.Data[:len(k.mask)], k.mask)
		return nil
	}
	text, err := strOf(v)
	if err != nil {
		return fmt.Errorf("input any: %w", err)
	}
	if !k.drawn || text != k.text {
		k.render(text)
		k.text, k.drawn = text, true
	}
	k.last = v
	copy(out[0].Tensor.Data[:len(k.rgb)], k.rgb)
	copy(out[1].Tensor.Data[:len(k.mask)], k.mask)
	return nil
}

// render draws text into k.rgb and k.mask.
func (k *textRenderer) render(text string) {
	if k.wrap > 0 {
		text = strings.Join(pyWrap(text, max(1, int(float64(k.wrap)/(k.size/2)))), "\n")
	}
	lines := strings.Split(text, "\n")
	clear(k.cov.Pix)
	asc := fixed.I(k.face.Metrics().Ascent.Ceil()) // FreeType's pixel ascender, rounded up
	bA, _ := font.BoundString(k.face, "A")
	spacing := (asc + bA.Max.Y).Ceil() + 4
	widths := make([]fixed.Int26_6, len(lines))
	var maxW fixed.Int26_6
	for i, l := range lines {
		widths[i] = font.MeasureString(k.face, l)
		maxW = max(maxW, widths[i])
	}
	shift := func(i int) fixed.Int26_6 {
		switch k.align {
		case 1:
			return (maxW - widths[i]) / 2
		case 2:
			return maxW - widths[i]
		}
		return 0
	}
	// The block's bounding box, from an origin at (0, 0).
	box := fixed.Rectangle26_6{Min: fixed.Point26_6{X: math.MaxInt32, Y: math.MaxInt32}, Max: fixed.Point26_6{X: math.MinInt32, Y: math.MinInt32}}
	for i, l := range lines {
		b, adv := font.BoundString(k.face, l)
		x0, y0 := shift(i), fixed.I(i*spacing)+asc
		box.Min.X, box.Max.X = min(box.Min.X, x0+min(b.Min.X, 0)), max(box.Max.X, x0+max(b.Max.X, adv))
		box.Min.Y, box.Max.Y = min(box.Min.Y, y0+b.Min.Y), max(box.Max.Y, y0+b.Max.Y)
	}
	tw, th := box.Max.X.Ceil()-box.Min.X.Floor(), box.Max.Y.Ceil()-box.Min.Y.Floor()
	if box.Max.X < box.Min.X {
		tw, th = 0, 0
	}
	var x int
	switch k.align {
	case 0:
		x = k.xOff
	case 1:
		x = floorDivide(k.w-tw, 2) + k.xOff
	default:
		x = k.w - tw + k.xOff
	}
	y := floorDivide(k.h-th, 2) + k.yOff
	d := font.Drawer{Dst: k.cov, Src: image.Opaque, Face: k.face}
	for i, l := range lines {
		d.Dot = fixed.Point26_6{X: fixed.I(x) + shift(i), Y: fixed.I(y+i*spacing) + asc}
		d.DrawString(l)
	}
	k.compose()
}

// compose blends the colours through the coverage (Pillow's fill with a
// mask: each channel, alpha too, (bg·(255−m) + fg·m)/255 rounded) and sets
// the outputs: RGB/255 and (m/255)·(alpha/255).
func (k *textRenderer) compose() {
	for i, m := range k.cov.Pix {
		var px [4]uint8
		for c := range px {
			px[c] = blend255(k.bg[c], k.fg[c], m)
		}
		q := k.rgb[3*i : 3*i+3 : 3*i+3]
		q[0], q[1], q[2] = rgb8[px[0]], rgb8[px[1]], rgb8[px[2]]
		k.mask[i] = rgb8[m] * rgb8[px[3]]
	}
}

// blend255 is Pillow's BLEND: (a·(255−m) + b·m)/255, rounded.
func blend255(a, b, m uint8) uint8 {
	t := uint32(a)*uint32(255-m) + uint32(b)*uint32(m) + 128
	return uint8((t + t>>8) >> 8)
}

// floorDivide is Python's // for a positive divisor.
func floorDivide(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// strOf converts a scalar as Python's str(): integers in decimal, floats as
// repr (shortest round-trip, exponent outside [1e-4, 1e16)), booleans as
// True/False.
func strOf(v value.Value) (string, error) {
	switch v.Kind {
	case value.String:
		return v.Str, nil
	case value.Int:
		return strconv.FormatInt(v.Int, 10), nil
	case value.Bool:
		if v.Bool {
			return "True", nil
		}
		return "False", nil
	case value.Float:
		return reprFloat(v.Float), nil
	}
	return "", fmt.Errorf("%s cannot be rendered as text", v.Kind)
}

// reprFloat is Python's repr of a float.
func reprFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// pyWrap is Python's textwrap.wrap(text, width) with its defaults, except
// that words are not split at hyphens: whitespace becomes spaces, lines
// are filled greedily with words and the spaces between them, words longer
// than a line are broken, and spaces at line ends (and at the start of
// lines after the first) are dropped. Lengths count code points.
func pyWrap(text string, width int) []string {
	chunks := splitChunks(text)
	var lines []string
	for len(chunks) > 0 {
		var cur []string
		n := 0
		if strings.TrimSpace(chunks[0]) == "" && len(lines) > 0 {
			chunks = chunks[1:]
		}
		for len(chunks) > 0 && n+utf8.RuneCountInString(chunks[0]) <= width {
			n += utf8.RuneCountInString(chunks[0])
			cur, chunks = append(cur, chunks[0]), chunks[1:]
		}
		if len(chunks) > 0 && utf8.RuneCountInString(chunks[0]) > width {
			space := width - n
			if width < 1 {
				space = 1
			}
			r := []rune(chunks[0])
			cur, chunks[0] = append(cur, string(r[:space])), string(r[space:])
		}
		if len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1]) == "" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			lines = append(lines, strings.Join(cur, ""))
		}
	}
	return lines
}

// mungeSpace is textwrap's _munge_whitespace: tabs expanded to the next
// multiple of 8 columns (str.expandtabs), then every whitespace character
// a space.
func mungeSpace(text string) string {
	var b strings.Builder
	col := 0
	for _, r := range text {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		case '\n', '\r':
			b.WriteByte(' ')
			col = 0
			continue
		case '\v', '\f':
			r = ' '
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}

// splitChunks splits text, whitespace munged, into runs of spaces and runs
// of other characters.
func splitChunks(text string) []string {
	text = mungeSpace(text)
	var out []string
	start := 0
	for i, r := range text {
		if i > start && (r == ' ') != (text[start] == ' ') {
			out = append(out, text[start:i])
			start = i
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// pillowColor reads a colour as Pillow's ImageColor.getcolor(s, "RGBA"):
// a name (case-insensitive), #rgb, #rgba, #rrggbb, #rrggbbaa, rgb(r,g,b)
// or rgba(r,g,b,a) with integers 0–255.
func pillowColor(s string) ([4]uint8, error) {
	bad := fmt.Errorf("unknown color specifier %q (want a name such as \"white\", #rrggbb or rgb(r, g, b))", s)
	l := strings.ToLower(s)
	if c, ok := colornames.Map[l]; ok {
		return [4]uint8{c.R, c.G, c.B, 255}, nil
	}
	if l == "rebeccapurple" { // CSS Color 4, in Pillow's list but not SVG 1.1's
		return [4]uint8{0x66, 0x33, 0x99, 255}, nil
	}
	if h, ok := strings.CutPrefix(l, "#"); ok {
		v, err := strconv.ParseUint(h, 16, 32)
		if err != nil || strings.ContainsAny(h, "+-xX_") {
			return [4]uint8{}, bad
		}
		switch len(h) {
		case 3, 4:
			var c [4]uint8
			c[3] = 0xf
			for i := range len(h) {
				c[i] = uint8(v >> (4 * (len(h) - 1 - i)) & 0xf)
			}
			for i := range c {
				c[i] *= 17
			}
			return c, nil
		case 6:
			return [4]uint8{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, nil
		case 8:
			return [4]uint8{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
		}
		return [4]uint8{}, bad
	}
	for _, fn := range []string{"rgb", "rgba"} {
		body, ok := strings.CutPrefix(l, fn+"(")
		if !ok || !strings.HasSuffix(body, ")") {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(body, ")"), ",")
		if len(parts) != len(fn) {
			return [4]uint8{}, bad
		}
		c := [4]uint8{3: 255}
		for i, p := range parts {
			v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 8)
			if err != nil {
				return [4]uint8{}, bad
			}
			c[i] = uint8(v)
		}
		return c, nil
	}
	return [4]uint8{}, bad
}
