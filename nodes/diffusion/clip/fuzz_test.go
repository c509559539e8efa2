package clip

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

// shifted is the tiny vocabulary with every id one higher, so that pad id
// 0 (PadWithZero) never occurs as content and the chunk layout can be
// read back.
func shifted(tb testing.TB) *Tokenizer {
	tb.Helper()
	data, err := os.ReadFile("testdata/tiny/vocab.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v map[string]int
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatal(err)
	}
	for k := range v {
		v[k]++
	}
	vj, _ := json.Marshal(v)
	merges, err := os.Open("testdata/tiny/merges.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer merges.Close()
	tok, err := New(strings.NewReader(string(vj)), merges)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// FuzzTokenize checks, for any prompt, that TokenizeWithWeights either
// fails with one of its documented errors or returns 77-token chunks
// (start, content, end, zero padding) whose contents, read back in order,
// are the segments' tokens with their weights.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"", "cat", "(cat:1.5) dog", "((the cat)) [dog]", `\(cat\) (a \(b\):0.5)`, "(cat", "cat)", "a) (b:1.2)",
		"embedding:x", "cat's dog, the cat", strings.Repeat("cat ", 90), "(" + strings.Repeat("dog ", 70) + ":1.1)" + strings.Repeat("cat ", 9),
		"<|endoftext|> x (y:nan) (z:inf)", "日本語 ΟΔΟΣ İ", "(x:1_0)((((y))))",
	} {
		f.Add(s)
	}
	tok := shifted(f)
	f.Fuzz(func(t *testing.T, prompt string) {
		chunks, err := tok.TokenizeWithWeights(prompt, Options{PadWithZero: true})
		if err != nil {
			var ee *EmbeddingError
			if !errors.As(err, &ee) && !errors.Is(err, errNesting) && len(prompt) <= MaxPromptBytes {
				t.Fatalf("TokenizeWithWeights(%q): unexpected error %v", prompt, err)
			}
			return
		}
		segs, err := ParseWeights(prompt)
		if err != nil {
			t.Fatal(err)
		}
		var want []Token
		for _, s := range segs {
			for _, id := range tok.Encode(s.Text) {
				want = append(want, Token{ID: id, Weight: s.Weight})
			}
		}
		var got []Token
		for i, ch := range chunks {
			if len(ch) != 77 || ch[0] != (Token{ID: tok.StartID(), Weight: 1}) {
				t.Fatalf("chunk %d of %q: length %d, first %v", i, prompt, len(ch), ch[0])
			}
			n := len(ch)
			for n > 0 && ch[n-1].ID == 0 {
				n--
			}
			if ch[n-1] != (Token{ID: tok.EndID(), Weight: 1}) {
				t.Fatalf("chunk %d of %q: no end token before the padding: %v", i, prompt, ch)
			}
			got = append(got, ch[1:n-1]...)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d content tokens, want %d", prompt, len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i].ID || math.Float64bits(got[i].Weight) != math.Float64bits(want[i].Weight) {
				t.Fatalf("%q: token %d is %v, want %v", prompt, i, got[i], want[i])
			}
		}
	})
}

// BenchmarkTokenize tokenizes a typical prompt with the real vocabulary
// when setup.sh fetched it (else the tiny one): "warm" is the steady state
// (words cached), "cold" empties the cache before each prompt.
func BenchmarkTokenize(b *testing.B) {
	const prompt = "masterpiece, best quality, (anime girl:1.2), ((detailed eyes)), silver hair, " +
		"beautiful scenery nature glass bottle landscape, purple galaxy bottle, dramatic lighting, 8k"
	var tok *Tokenizer
	if _, err := os.Stat(realVocabPath()); err == nil {
		tok = realTok(b)
	} else {
		b.Logf("real vocabulary absent (%v): tiny vocabulary", err)
		tok = tiny(b)
	}
	for _, cold := range []bool{false, true} {
		name := "warm"
		if cold {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if cold {
					tok.mu.Lock()
					clear(tok.cache)
					tok.mu.Unlock()
				}
				if _, err := tok.TokenizeWithWeights(prompt, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
