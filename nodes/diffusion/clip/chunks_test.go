package clip

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// tok1 is a token with weight 1, tw one with weight w.
func tok1(id int32) Token              { return Token{ID: id, Weight: 1} }
func tw(id int32, w float64) Token     { return Token{ID: id, Weight: w} }
func rep(t Token, n int) []Token       { return slices.Repeat([]Token{t}, n) }
func words(w string, n int) string     { return strings.TrimSpace(strings.Repeat(w+" ", n)) }
func chunk(parts ...[]Token) (c Chunk) { return Chunk(slices.Concat(parts...)) }

// The tiny vocabulary: start 20, end (and pad) 21, cat 6, dog 15.
func TestTokenizeWithWeightsTiny(t *testing.T) {
	s, e := tok1(20), tok1(21)
	cat, dog := tok1(6), tok1(15)
	cases := []struct {
		name, prompt string
		want         []Chunk
	}{
		{"empty prompt: one chunk", "", []Chunk{chunk([]Token{s, e}, rep(e, 75))}},
		{"one word", "cat", []Chunk{chunk([]Token{s, cat, e}, rep(e, 74))}},
		{"weights", "(cat:1.5) dog ((dog))", []Chunk{chunk([]Token{s, tw(6, 1.5), dog, tw(15, 1.2100000000000002), e}, rep(e, 72))}},
		{"75 tokens fill one chunk", words("cat", 75), []Chunk{chunk([]Token{s}, rep(cat, 75), []Token{e})}},
		// One segment is one group: 80 tokens (≥ 8) split at the chunk end.
		{"80 tokens: two chunks", words("cat", 80), []Chunk{
			chunk([]Token{s}, rep(cat, 75), []Token{e}),
			chunk([]Token{s}, rep(cat, 5), []Token{e}, rep(e, 70)),
		}},
		{"160 tokens: three chunks", words("cat", 160), []Chunk{
			chunk([]Token{s}, rep(cat, 75), []Token{e}),
			chunk([]Token{s}, rep(cat, 75), []Token{e}),
			chunk([]Token{s}, rep(cat, 10), []Token{e}, rep(e, 65)),
		}},
		// 70 tokens, then a group of 7 (< 8) that does not fit in the 5
		// left: it moves whole to the next chunk, the first is padded.
		{"short group moves", "(" + words("cat", 70) + ":1.2)(" + words("dog", 7) + ":0.9)", []Chunk{
			chunk([]Token{s}, rep(tw(6, 1.2), 70), []Token{e}, rep(e, 5)),
			chunk([]Token{s}, rep(tw(15, 0.9), 7), []Token{e}, rep(e, 68)),
		}},
		// A group of 8 is large: 5 of it end the first chunk.
		{"large group splits", "(" + words("cat", 70) + ":1.2)(" + words("dog", 8) + ":0.9)", []Chunk{
			chunk([]Token{s}, rep(tw(6, 1.2), 70), rep(tw(15, 0.9), 5), []Token{e}),
			chunk([]Token{s}, rep(tw(15, 0.9), 3), []Token{e}, rep(e, 72)),
		}},
		// A short group that fits exactly (70 + 5 = 75) stays.
		{"short group fits", "(" + words("cat", 70) + ":1.2)" + words("dog", 5), []Chunk{
			chunk([]Token{s}, rep(tw(6, 1.2), 70), rep(dog, 5), []Token{e}),
		}},
		{"brackets are text", "[cat]", []Chunk{chunk([]Token{s, tok1(21), cat, tok1(21), e}, rep(e, 72))}}, // [ and ] are unknown here
		{"escaped parentheses", `\(cat\)`, []Chunk{chunk([]Token{s, tok1(22), cat, tok1(23), e}, rep(e, 72))}},
	}
	tk := tiny(t)
	for _, c := range cases {
		got, err := tk.TokenizeWithWeights(c.prompt, Options{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.EqualFunc(got, c.want, func(a, b Chunk) bool { return slices.Equal(a, b) }) {
			t.Errorf("%s: TokenizeWithWeights(%q)\n got %v\nwant %v", c.name, c.prompt, got, c.want)
		}
		for i, ch := range got {
			if len(ch) != 77 {
				t.Errorf("%s: chunk %d has %d tokens", c.name, i, len(ch))
			}
		}
	}
}

func TestTokenizeOptions(t *testing.T) {
	tk := tiny(t)
	got, err := tk.TokenizeWithWeights("cat", Options{MaxLength: 10, PadWithZero: true})
	want := Chunk{tok1(20), tok1(6), tok1(21), tok1(0), tok1(0), tok1(0), tok1(0), tok1(0), tok1(0), tok1(0)}
	if err != nil || len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("SD2-style options: %v, %v", got, err)
	}
	for _, o := range []Options{{MaxLength: 5}, {MaxWordLength: -1}, {MaxLength: 1 << 20}} {
		if _, err := tk.TokenizeWithWeights("cat", o); err == nil || !strings.Contains(err.Error(), "bad options") {
			t.Errorf("options %+v: err = %v", o, err)
		}
	}
}

func TestTokenizeEmbedding(t *testing.T) {
	tk := tiny(t)
	for prompt, name := range map[string]string{
		"embedding:EasyNegative":                   "EasyNegative",
		"cat embedding:bad-hands, dog":             "bad-hands,",
		"cat\nembedding:x":                         "x",
		"(cat (embedding:y:1.2):1.1)":              "y",
		"cat embedding: dog":                       "dog", // ComfyUI splits the rest on whitespace
		"cat embedding:":                           "",
		"(a:1.2) embedding:first embedding:second": "first",
	} {
		_, err := tk.TokenizeWithWeights(prompt, Options{})
		var ee *EmbeddingError
		if !errors.As(err, &ee) || ee.Name != name {
			t.Errorf("%q: err = %v, want the embedding %q", prompt, err, name)
		} else if !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%q: %v", prompt, err)
		}
	}
	// Not where ComfyUI looks for one: plain text.
	if _, err := tk.TokenizeWithWeights("catembedding:x", Options{}); err != nil {
		t.Errorf("catembedding:x: %v", err)
	}
}

// TestTokenizeWithWeightsReal checks the chunk layout with the real
// vocabulary: a corpus negative prompt with weights, and a long prompt
// split across two chunks at the 75-token boundary with its ids in order.
func TestTokenizeWithWeightsReal(t *testing.T) {
	tk := realTok(t)
	got, err := tk.TokenizeWithWeights("(worst quality, low quality:1.4)", Options{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %v", got, err)
	}
	want := chunk([]Token{tok1(49406)}, []Token{tw(5719, 1.4), tw(3027, 1.4), tw(267, 1.4), tw(1042, 1.4), tw(3027, 1.4)}, rep(tok1(49407), 71))
	if !slices.Equal(got[0], want) {
		t.Errorf("weighted prompt\n got %v\nwant %v", got[0], want)
	}

	long := strings.Repeat("a cinematic shot of a lighthouse on a cliff at sunset, dramatic clouds, ", 6)
	ids := tk.Encode(long)
	if len(ids) < 76 || len(ids) > 150 {
		t.Fatalf("%d tokens: want two chunks' worth", len(ids))
	}
	chunks, err := tk.TokenizeWithWeights(long, Options{})
	if err != nil || len(chunks) != 2 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	var content []int32
	for i, ch := range chunks {
		if ch[0].ID != 49406 || len(ch) != 77 {
			t.Errorf("chunk %d: first %d, length %d", i, ch[0].ID, len(ch))
		}
		n := 75
		if i == 1 {
			n = len(ids) - 75
		}
		for _, tk := range ch[1 : 1+n] {
			content = append(content, tk.ID)
		}
		for _, tk := range ch[1+n:] {
			if tk.ID != 49407 {
				t.Errorf("chunk %d: %d after the content, want end/pad 49407", i, tk.ID)
				break
			}
		}
	}
	if !slices.Equal(content, ids) {
		t.Errorf("chunk contents differ from the prompt's ids")
	}
}

func TestEncoderRows(t *testing.T) {
	tk := tiny(t)
	plain, _ := tk.TokenizeWithWeights("cat dog", Options{})
	rows, err := tk.EncoderRows(plain, Options{})
	if err != nil || len(rows) != 1 || !slices.Equal(rows[0], plain[0]) {
		t.Errorf("unweighted: %v, %v", rows, err)
	}
	weighted, _ := tk.TokenizeWithWeights("(cat:1.3) dog", Options{})
	rows, err = tk.EncoderRows(weighted, Options{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("weighted: %v, %v", rows, err)
	}
	if want := chunk([]Token{tok1(20), tok1(21)}, rep(tok1(21), 75)); !slices.Equal(rows[1], want) {
		t.Errorf("empty row %v", rows[1])
	}
	rows, _ = tk.EncoderRows(weighted, Options{PadWithZero: true})
	if rows[1][1].ID != 21 || rows[1][2].ID != 0 {
		t.Errorf("SD2 empty row %v", rows[1][:4])
	}
	if _, err := tk.EncoderRows(nil, Options{}); err == nil {
		t.Error("no chunks: no error")
	}
}
