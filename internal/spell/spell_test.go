package spell

import "testing"

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"KSampler", "KSampler", 0},
		{"KSmapler", "KSampler", 1}, // transposition
		{"seed", "sede", 1},
		{"ca", "abc", 3}, // OSA (not full Damerau, which gives 2)
		{"héllo", "hello", 1},
	} {
		if got := Distance(tc.a, tc.b, -1); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a, -1); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
	if got := Distance("a", "abcdef", 2); got != 3 {
		t.Errorf("limited distance = %d, want 3", got)
	}
}

func TestNearest(t *testing.T) {
	t.Parallel()
	classes := []string{"KSampler", "KSamplerAdvanced", "LoadImage", "PreviewImage", "SaveImage", "VAEDecode", "VAEEncode"}
	for _, tc := range []struct {
		x    string
		cand []string
		want string
	}{
		{"KSampelr", classes, "KSampler"},
		{"ksampler", classes, "KSampler"},
		{"LoadImag", classes, "LoadImage"},
		{"VAEDecod", classes, "VAEDecode"},
		{"NonExistentCustomNode_XYZ_12345", classes, ""},
		{"KSampler", classes, ""}, // exact names are not suggested
		{"sed", []string{"seed", "steps", "cfg"}, "seed"},
		{"x", []string{"y", "z"}, "y"}, // ties: lexically smallest
		{"x", []string{"z", "y"}, "y"},
		{"image", []string{"Image", "imagE"}, "Image"}, // both distance 0 folded; tie on case distance then lexical
		{"", classes, ""},
	} {
		if got := Nearest(tc.x, tc.cand); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

func TestMaxDistance(t *testing.T) {
	t.Parallel()
	for x, want := range map[string]int{"": 1, "ab": 1, "seed": 1, "KSampler": 2, "abcdefghijklmnopqrstuvwxyz": 5} {
		if got := MaxDistance(x); got != want {
			t.Errorf("MaxDistance(%q) = %d, want %d", x, got, want)
		}
	}
}
