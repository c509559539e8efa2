package builtin

// A small stroke font for FPSMonitor's overlay: the characters of
// "FPS: 12.3 (avg: 45.6)". Glyphs are polylines in units where the capital
// height is 21 and y grows up from the baseline, about the metrics of
// OpenCV's FONT_HERSHEY_SIMPLEX at scale 1 (a capital ~21 px high); the
// strokes are comfyrt's own drawing, not Hershey's.

type glyph struct {
	adv    int
	stroke [][]int // each a polyline x0,y0,x1,y1,…
}

var strokeFont = map[rune]glyph{
	' ': {10, nil},
	'.': {6, [][]int{{2, 2, 2, 0}}},
	':': {6, [][]int{{2, 15, 2, 13}, {2, 2, 2, 0}}},
	'(': {10, [][]int{{7, 25, 5, 22, 3, 18, 2, 13, 2, 9, 3, 4, 5, 0, 7, -3}}},
	')': {10, [][]int{{1, 25, 3, 22, 5, 18, 6, 13, 6, 9, 5, 4, 3, 0, 1, -3}}},
	'F': {16, [][]int{{0, 0, 0, 21, 13, 21}, {0, 11, 8, 11}}},
	'P': {17, [][]int{{0, 0, 0, 21, 9, 21, 12, 20, 13, 18, 13, 14, 12, 12, 9, 11, 0, 11}}},
	'S': {18, [][]int{{14, 18, 12, 20, 9, 21, 5, 21, 2, 20, 0, 18, 0, 16, 1, 14, 2, 13, 4, 12, 10, 10, 12, 9, 13, 8, 14, 6,
		14, 3, 12, 1, 9, 0, 5, 0, 2, 1, 0, 3}}},
	'a': {16, [][]int{{12, 14, 12, 0}, {12, 11, 10, 13, 8, 14, 5, 14, 3, 13, 1, 11, 0, 8, 0, 6, 1, 3, 3, 1, 5, 0, 8, 0, 10, 1, 12, 3}}},
	'v': {14, [][]int{{0, 14, 6, 0, 12, 14}}},
	'g': {16, [][]int{{12, 14, 12, -2, 11, -5, 10, -6, 8, -7, 5, -7, 3, -6},
		{12, 11, 10, 13, 8, 14, 5, 14, 3, 13, 1, 11, 0, 8, 0, 6, 1, 3, 3, 1, 5, 0, 8, 0, 10, 1, 12, 3}}},
	'0': {16, [][]int{{5, 21, 2, 20, 0, 17, 0, 4, 2, 1, 5, 0, 7, 0, 10, 1, 12, 4, 12, 17, 10, 20, 7, 21, 5, 21}}},
	'1': {16, [][]int{{2, 17, 5, 21, 5, 0}}},
	'2': {16, [][]int{{1, 16, 1, 17, 2, 19, 3, 20, 5, 21, 9, 21, 11, 20, 12, 19, 13, 17, 13, 15, 12, 13, 10, 10, 0, 0, 14, 0}}},
	'3': {16, [][]int{{2, 21, 13, 21, 7, 13, 10, 13, 12, 12, 13, 11, 14, 8, 14, 6, 13, 3, 11, 1, 8, 0, 5, 0, 2, 1, 1, 2, 0, 4}}},
	'4': {16, [][]int{{10, 0, 10, 21, 0, 7, 15, 7}}},
	'5': {16, [][]int{{12, 21, 2, 21, 1, 12, 2, 13, 5, 14, 8, 14, 11, 13, 13, 11, 14, 8, 14, 6, 13, 3, 11, 1, 8, 0, 5, 0, 2, 1, 1, 2, 0, 4}}},
	'6': {16, [][]int{{12, 18, 11, 20, 8, 21, 6, 21, 3, 20, 1, 17, 0, 12, 0, 7, 1, 3, 3, 1, 6, 0, 7, 0, 10, 1, 12, 3, 13, 6, 13, 7,
		12, 10, 10, 12, 7, 13, 6, 13, 3, 12, 1, 10, 0, 7}}},
	'7': {16, [][]int{{0, 21, 14, 21, 4, 0}}},
	'8': {16, [][]int{{5, 21, 2, 20, 1, 18, 1, 16, 2, 14, 4, 13, 8, 12, 11, 11, 13, 9, 14, 7, 14, 4, 13, 2, 12, 1, 9, 0, 5, 0, 2, 1,
		1, 2, 0, 4, 0, 7, 1, 9, 3, 11, 6, 12, 10, 13, 12, 14, 13, 16, 13, 18, 12, 20, 9, 21, 5, 21}}},
	'9': {16, [][]int{{13, 14, 12, 11, 10, 9, 7, 8, 6, 8, 3, 9, 1, 11, 0, 14, 0, 15, 1, 18, 3, 20, 6, 21, 7, 21, 10, 20, 12, 18,
		13, 14, 13, 9, 12, 4, 10, 1, 7, 0, 5, 0, 2, 1, 1, 3}}},
	'-': {16, [][]int{{2, 9, 13, 9}}},
}

// drawText draws s with its baseline's left end at (x0, base), glyph
// units scaled by scale, one pixel wide, calling plot for each pixel
// inside w×h. Characters without a glyph advance like a space.
func drawText(s string, x0, base int, scale float64, w, h int, plot func(x, y int)) {
	pen := float64(x0)
	for _, r := range s {
		g, ok := strokeFont[r]
		if !ok {
			g = strokeFont[' ']
		}
		for _, pl := range g.stroke {
			for i := 0; i+3 < len(pl); i += 2 {
				ax, ay := pen+float64(pl[i])*scale, float64(base)-float64(pl[i+1])*scale
				bx, by := pen+float64(pl[i+2])*scale, float64(base)-float64(pl[i+3])*scale
				drawLine(roundInt(ax), roundInt(ay), roundInt(bx), roundInt(by), w, h, plot)
			}
		}
		pen += float64(g.adv) * scale
	}
}

func roundInt(v float64) int {
	if v < 0 {
		return -int(-v + 0.5)
	}
	return int(v + 0.5)
}

// drawLine plots the pixels of the segment (Bresenham), clipped to w×h.
func drawLine(x0, y0, x1, y1, w, h int, plot func(x, y int)) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		if x0 >= 0 && y0 >= 0 && x0 < w && y0 < h {
			plot(x0, y0)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
