package clip

import (
	"math"
	"strings"
	"testing"
)

// The expected segments follow ComfyUI's token_weights (comfy/sd1_clip.py)
// step by step; the comments give the derivation where it is not obvious.
func TestParseWeights(t *testing.T) {
	cases := []struct {
		prompt string
		want   []Segment
	}{
		{"", nil},
		{"a cat", []Segment{{"a cat", 1}}},
		{"(cat)", []Segment{{"cat", 1.1}}},
		{"((cat))", []Segment{{"cat", 1.2100000000000002}}}, // 1.1 × 1.1 in float64, as Python
		{"(((cat)))", []Segment{{"cat", 1.3310000000000004}}},
		{"(cat:1.5)", []Segment{{"cat", 1.5}}},
		{"a (cat:1.5) b", []Segment{{"a ", 1}, {"cat", 1.5}, {" b", 1}}},
		// The outer group's "1.5)" is no number: ×1.1, then the inner sets 1.5.
		{"((cat:1.5))", []Segment{{"cat", 1.5}}},
		{"(cat:0.5) (dog)", []Segment{{"cat", 0.5}, {" ", 1}, {"dog", 1.1}}},
		{"(a(b)c)", []Segment{{"a", 1.1}, {"b", 1.2100000000000002}, {"c", 1.1}}},
		{"(cat:abc)", []Segment{{"cat:abc", 1.1}}},   // not a number: text kept, ×1.1
		{"(:1.5)", []Segment{{":1.5", 1.1}}},         // colon first: no weight
		{"(a:b:0.5)", []Segment{{"a:b", 0.5}}},       // the last colon
		{"(cat:1.2:)", []Segment{{"cat:1.2:", 1.1}}}, // empty number
		{"(cat: 2 )", []Segment{{"cat", 2}}},         // float() strips spaces
		{"(cat:1_5)", []Segment{{"cat", 15}}},        // underscores between digits
		{"(cat:1__5)", []Segment{{"cat:1__5", 1.1}}},
		{"(cat:1e1)", []Segment{{"cat", 10}}},
		{"(cat:.5)", []Segment{{"cat", 0.5}}},
		{"(cat:-2.)", []Segment{{"cat", -2}}},
		{"(cat:0x10)", []Segment{{"cat:0x10", 1.1}}},      // no hexadecimal in float()
		{"(cat:\u0661.\u0665)", []Segment{{"cat", 1.5}}},  // Arabic-Indic digits
		{"(cat:\uff12\u3000)", []Segment{{"cat", 2}}},     // full-width 2, ideographic space
		{`\(cat\)`, []Segment{{"(cat)", 1}}},              // escaped: literal parentheses
		{`(a \(b\) c:1.3)`, []Segment{{"a (b) c", 1.3}}},  // escapes inside a group
		{`\\(cat)`, []Segment{{`\(cat)`, 1}}},             // no escaping of "\": "\(" is escaped, the ")" is stray
		{"(cat", []Segment{{"(cat", 1}}},                  // unclosed: plain text
		{"cat)", []Segment{{"cat)", 1}}},                  // stray ')': plain text
		{"((cat)", []Segment{{"(cat", 1.1}}},              // one pair closes: inner "(cat" ×1.1
		{"a) (b:1.2)", []Segment{{"a) (b:1.2)", 1}}},      // level −1 after ')': the rest is text
		{"(a)) (b)", []Segment{{"a", 1.1}, {") (b)", 1}}}, // same after a closed group
		{")((x))", []Segment{{")(", 1}, {"x", 1.1}, {")", 1}}},
		{"[cat]", []Segment{{"[cat]", 1}}}, // no [] de-emphasis in ComfyUI
		{"()", nil},                        // empty group: nothing
		{"(cat:2)(dog:3)", []Segment{{"cat", 2}, {"dog", 3}}},
	}
	for _, c := range cases {
		got, err := ParseWeights(c.prompt)
		if err != nil {
			t.Errorf("ParseWeights(%q): %v", c.prompt, err)
			continue
		}
		if !sameSegments(got, c.want) {
			t.Errorf("ParseWeights(%q)\n got %v\nwant %v", c.prompt, got, c.want)
		}
	}
}

func sameSegments(a, b []Segment) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Text != b[i].Text || a[i].Weight != b[i].Weight {
			return false
		}
	}
	return true
}

func TestParseWeightsSpecialNumbers(t *testing.T) {
	for prompt, want := range map[string]float64{
		"(x:inf)": math.Inf(1), "(x:-Infinity)": math.Inf(-1), "(x:1e999)": math.Inf(1), "(x:1e-999)": 0,
	} {
		got, err := ParseWeights(prompt)
		if err != nil || len(got) != 1 || got[0].Text != "x" || got[0].Weight != want {
			t.Errorf("ParseWeights(%q) = %v, %v; want x with %v", prompt, got, err, want)
		}
	}
	got, err := ParseWeights("(x:NaN)")
	if err != nil || len(got) != 1 || !math.IsNaN(got[0].Weight) {
		t.Errorf("ParseWeights((x:NaN)) = %v, %v", got, err)
	}
}

func TestPyFloat(t *testing.T) {
	good := map[string]float64{"1": 1, " 1.5 ": 1.5, "+2": 2, "-0.25": -0.25, "1_000.0_1": 1000.01, "5.": 5, "1E+2": 100, "\t3\n": 3}
	for s, want := range good {
		if got, ok := pyFloat(s); !ok || got != want {
			t.Errorf("pyFloat(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", " ", ".", "e5", "1e", "1.2.3", "+-1", "_1", "1_", "1_e5", "1 2", "0x1p3", "1,5", "one", "1.5)"} {
		if got, ok := pyFloat(s); ok {
			t.Errorf("pyFloat(%q) = %v, want an error", s, got)
		}
	}
}

func TestParseWeightsLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxNesting) + "x" + strings.Repeat(")", MaxNesting)
	got, err := ParseWeights(deep)
	if err != nil || len(got) != 1 || got[0].Text != "x" {
		t.Fatalf("%d levels: %v, %v", MaxNesting, got, err)
	}
	deeper := "(" + deep + ")"
	if _, err := ParseWeights(deeper); err == nil || !strings.Contains(err.Error(), "nest deeper than 200") {
		t.Errorf("%d levels: err = %v", MaxNesting+1, err)
	}
	if _, err := ParseWeights(strings.Repeat("a", MaxPromptBytes+1)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("long prompt: err = %v", err)
	}
}
