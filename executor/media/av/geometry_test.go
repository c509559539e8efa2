package av

import "testing"

func TestCoverCrop(t *testing.T) {
	for _, tc := range []struct {
		name           string
		sw, sh, dw, dh int
		x, y, w, h     int
	}{
		{"same", 640, 360, 640, 360, 0, 0, 640, 360},
		{"same aspect", 1280, 720, 640, 360, 0, 0, 1280, 720},
		{"wide to square", 640, 360, 240, 240, 140, 0, 360, 360},
		{"tall to wide", 640, 360, 640, 180, 0, 90, 640, 180},
		{"4:3 to 16:9", 768, 576, 512, 288, 0, 72, 768, 432},
		{"odd sizes even crop", 101, 77, 50, 50, 12, 0, 76, 77},
		{"invalid", 0, 0, 10, 10, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y, w, h := coverCrop(tc.sw, tc.sh, tc.dw, tc.dh)
			if x != tc.x || y != tc.y || w != tc.w || h != tc.h {
				t.Fatalf("coverCrop(%d,%d→%d,%d) = %d,%d %dx%d, want %d,%d %dx%d", tc.sw, tc.sh, tc.dw, tc.dh, x, y, w, h, tc.x, tc.y, tc.w, tc.h)
			}
			if x+w > tc.sw || y+h > tc.sh || x < 0 || y < 0 {
				t.Fatalf("crop outside the picture")
			}
		})
	}
}

func TestOutputSize(t *testing.T) {
	for _, tc := range []struct{ inW, inH, w, h, ow, oh int }{
		{640, 360, 0, 0, 640, 360},
		{640, 360, 512, 512, 512, 512},
		{640, 360, 320, 0, 320, 180},
		{640, 360, 0, 180, 320, 180},
		{768, 576, 0, 100, 132, 100},
	} {
		if w, h := outputSize(tc.inW, tc.inH, tc.w, tc.h); w != tc.ow || h != tc.oh {
			t.Errorf("outputSize(%d,%d,%d,%d) = %d,%d want %d,%d", tc.inW, tc.inH, tc.w, tc.h, w, h, tc.ow, tc.oh)
		}
	}
}
