package clip

import (
	"slices"
	"strings"
	"testing"
)

func ids(c Chunk) []int32 {
	out := make([]int32, len(c))
	for i, tk := range c {
		out[i] = tk.ID
	}
	return out
}

// TestTokenizePlain: the weighting syntax is plain text (the parentheses,
// colon and digits are tokens, every weight 1), the ids are start, text,
// end, padding to 77, and a long text is truncated to 75 tokens.
func TestTokenizePlain(t *testing.T) {
	tok := tiny(t)
	c, err := tok.TokenizePlain("(cat:1.5)", Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := tok.Encode("(cat:1.5)")
	if !slices.Contains(text, 22) || !slices.Contains(text, 23) || !slices.Contains(text, 6) {
		t.Fatalf("Encode((cat:1.5)) = %v: want the parentheses' tokens 22, 23 and cat 6", text)
	}
	want := append(append([]int32{20}, text...), 21)
	for len(want) < 77 {
		want = append(want, 21)
	}
	if got := ids(c); !slices.Equal(got, want) {
		t.Errorf("TokenizePlain((cat:1.5)) = %v, want %v", got, want)
	}
	if HasWeights([]Chunk{c}) {
		t.Error("TokenizePlain gives weights other than 1")
	}
	// The weighted tokenizer drops the parentheses.
	w, _ := tok.TokenizeWithWeights("(cat:1.5)", Options{})
	if slices.Contains(ids(w[0]), 22) {
		t.Errorf("TokenizeWithWeights keeps the parenthesis: %v", ids(w[0]))
	}
	long, err := tok.TokenizePlain(strings.Repeat("cat ", 100), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(long); len(got) != 77 || got[0] != 20 || got[75] != 6 || got[76] != 21 {
		t.Errorf("100 words: %v, want start, 75 × cat, end", got)
	}
	zero, _ := tok.TokenizePlain("", Options{PadWithZero: true})
	if got := ids(zero); got[0] != 20 || got[1] != 21 || got[2] != 0 || got[76] != 0 {
		t.Errorf("empty text padded with 0: %v", got)
	}
	if _, err := tok.TokenizePlain(strings.Repeat("a", MaxPromptBytes+1), Options{}); err == nil {
		t.Error("text over MaxPromptBytes: no error")
	}
	if _, err := tok.TokenizePlain("embedding:foo", Options{}); err != nil {
		t.Errorf("embedding:foo is text here: %v", err)
	}
}
