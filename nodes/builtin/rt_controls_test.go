package builtin

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
)

// controlRef is testdata/realtime_controls.json, written by
// testdata/realtime_controls.py from the pack's formulas.
type controlRef map[string]struct {
	Float  []float64 `json:"float"`
	Int    []int64   `json:"int"`
	String []int     `json:"string"`
}

func loadControlRef(t *testing.T) controlRef {
	t.Helper()
	b, err := os.ReadFile("testdata/realtime_controls.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref controlRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref) != len(movements)-1 { // every pattern but random_walk
		t.Fatalf("reference has %d patterns", len(ref))
	}
	return ref
}

// runSteps prepares class on in and returns its first output over n runs.
func runSteps(t *testing.T, class string, n int, in ...value.Value) []value.Value {
	t.Helper()
	k := kernel(t, class)
	out := prepare(t, k, in)
	var got []value.Value
	for range n {
		if err := nodes.SafeRun(k, in, out); err != nil {
			t.Fatal(err)
		}
		got = append(got, out[0])
	}
	return got
}

func TestValueControls_matchPackFormulas(t *testing.T) {
	ref := loadControlRef(t)
	lines := []string{"l0", "l1", "l2", "l3", "l4"}
	for name, want := range ref {
		fl := runSteps(t, "FloatControl", 40, boolean(true), i64(7), str(name), f64(3), f64(-2), f64(0.25))
		in := runSteps(t, "IntControl", 40, boolean(true), i64(7), str(name), i64(90), i64(-10), i64(5))
		st := runSteps(t, "StringControl", 40, boolean(true), str("l0\n  l1 \n\nl2\nl3\nl4\n"), i64(6), str(name))
		for i := range 40 {
			if d := math.Abs(fl[i].Float - want.Float[i]); d > 1e-12 || fl[i].Kind != value.Float {
				t.Errorf("%s FloatControl frame %d: %v, want %v", name, i, fl[i], want.Float[i])
			}
			if in[i].Int != want.Int[i] || in[i].Kind != value.Int {
				t.Errorf("%s IntControl frame %d: %v, want %v", name, i, in[i], want.Int[i])
			}
			if st[i].Str != lines[want.String[i]] {
				t.Errorf("%s StringControl frame %d: %q, want %q", name, i, st[i].Str, lines[want.String[i]])
			}
		}
	}
}

// always_execute false: ComfyUI caches the first result.
func TestValueControls_alwaysExecuteFalse(t *testing.T) {
	fl := runSteps(t, "FloatControl", 5, boolean(false), i64(4), str("sawtooth"), f64(1), f64(0), f64(0.5))
	st := runSteps(t, "StringControl", 5, boolean(false), str("a\nb\nc"), i64(4), str("sawtooth"))
	for i := range 5 {
		if fl[i].Float != 0.5 || st[i].Str != "a" { // round(0.5) = 0 in Python
			t.Errorf("frame %d: %v %v, want the first values (0.5, a)", i, fl[i], st[i])
		}
	}
}

// random_walk is seeded by the node id: the same on two kernels of the
// same node, within range, moving.
func TestValueControls_randomWalkReproducible(t *testing.T) {
	a := runSteps(t, "FloatControl", 50, boolean(true), i64(7), str("random_walk"), f64(10), f64(0), f64(5))
	b := runSteps(t, "FloatControl", 50, boolean(true), i64(7), str("random_walk"), f64(10), f64(0), f64(5))
	moved := false
	for i := range a {
		if a[i].Float != b[i].Float || a[i].Float < 0 || a[i].Float > 10 {
			t.Fatalf("frame %d: %v vs %v", i, a[i], b[i])
		}
		moved = moved || (i > 1 && a[i].Float != a[i-1].Float)
	}
	if !moved {
		t.Error("random_walk never moved")
	}
}

func TestValueControls_badInputs(t *testing.T) {
	if err := prepareErr(t, "FloatControl", boolean(true), i64(0), str("sine"), f64(1), f64(0), f64(0)); err == nil {
		t.Error("steps_per_cycle 0 accepted")
	}
	if err := prepareErr(t, "IntControl", boolean(true), i64(3), str("zigzag"), i64(1), i64(0), i64(0)); err == nil {
		t.Error("unknown movement_type accepted")
	}
}

func TestSaveTextTensor(t *testing.T) {
	k := kernel(t, "SaveTextTensor")
	for _, c := range []struct {
		in    []value.Value
		want  string
		title string
	}{
		{[]value.Value{str("a\nb\r\nc")}, "abc", "default removes line breaks"},
		{[]value.Value{str("a\nb"), boolean(false)}, "a\nb", "remove_linebreaks false keeps them"},
	} {
		prepare(t, k, c.in)
		if err := k.Run(c.in, nil); err != nil {
			t.Fatal(err)
		}
		if got, ok := k.(nodes.TextOutput).Text(); !ok || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.title, got, ok, c.want)
		}
	}
	if err := prepareErr(t, "SaveTextTensor", i64(3)); err == nil {
		t.Error("an INT data accepted")
	}
}
