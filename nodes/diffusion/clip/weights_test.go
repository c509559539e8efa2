package clip

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func readF32(tb testing.TB, name string) []float32 {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]float32, len(data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out
}

// TestConditioningReference compares Conditioning with PyTorch running
// ComfyUI's weighting loop (scripts/reference/clip_weights.py), bit for
// bit.
func TestConditioningReference(t *testing.T) {
	var ref struct {
		Tokens, Dim int
		Weights     [][]float64
	}
	data, err := os.ReadFile("testdata/weights/weights.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	hidden := readF32(t, "testdata/weights/hidden.f32")
	want := readF32(t, "testdata/weights/cond.f32")
	chunks := make([]Chunk, len(ref.Weights))
	for k, ws := range ref.Weights {
		for j, w := range ws {
			chunks[k] = append(chunks[k], Token{ID: int32(j), Weight: w})
		}
	}
	cond := make([]float32, len(want))
	if err := Conditioning(cond, nil, hidden, nil, chunks, ref.Dim); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := range want {
		if math.Float32bits(cond[i]) != math.Float32bits(want[i]) {
			t.Fatalf("value %d (chunk %d token %d): %v, PyTorch %v", i, i/(ref.Tokens*ref.Dim), i/ref.Dim%ref.Tokens, cond[i], want[i])
		}
		if cond[i] != hidden[i] {
			changed++
		}
	}
	if changed < 500 {
		t.Errorf("only %d values weighted: the reference does not exercise the weights", changed)
	}
}

func TestConditioningHand(t *testing.T) {
	// Two chunks of 3 tokens, dimension 2; the empty prompt's row last.
	chunks := []Chunk{
		{tok1(1), tw(2, 1.5), tok1(3)},
		{tok1(1), tok1(2), tw(3, 0.5)},
	}
	hidden := []float32{
		1, 2, 3, 5, 7, 9, // chunk 0
		2, 4, 6, 8, 10, 12, // chunk 1
		0, 1, 1, 1, 2, 4, // empty prompt
	}
	pooled := []float32{10, 11, 20, 21, 30, 31}
	cond, pooledOut := make([]float32, 12), make([]float32, 2)
	if err := Conditioning(cond, pooledOut, hidden, pooled, chunks, 2); err != nil {
		t.Fatal(err)
	}
	want := []float32{
		1, 2, (3-1)*1.5 + 1, (5-1)*1.5 + 1, 7, 9, // token 1 of chunk 0 weighted 1.5
		2, 4, 6, 8, (10-2)*0.5 + 2, (12-4)*0.5 + 4, // token 2 of chunk 1 weighted 0.5
	}
	if !slices.Equal(cond, want) || !slices.Equal(pooledOut, []float32{10, 11}) {
		t.Errorf("cond %v pooled %v\nwant %v [10 11]", cond, pooledOut, want)
	}

	// Without weights no empty row: the hidden states are copied.
	plain := []Chunk{{tok1(1), tok1(2), tok1(3)}}
	cond = make([]float32, 6)
	if err := Conditioning(cond, pooledOut, hidden[:6], pooled[:2], plain, 2); err != nil || !slices.Equal(cond, hidden[:6]) {
		t.Errorf("unweighted: %v, %v", cond, err)
	}
}

func TestConditioningErrors(t *testing.T) {
	c1 := []Chunk{{tok1(1), tok1(2)}}
	cases := []struct {
		name                         string
		cond, pooledOut, hidden, pld []float32
		chunks                       []Chunk
		dim                          int
		want                         string
	}{
		{"no chunks", nil, nil, nil, nil, nil, 2, "0 chunks"},
		{"bad dim", nil, nil, nil, nil, c1, 0, "dimension 0"},
		{"ragged", make([]float32, 4), nil, make([]float32, 4), nil, []Chunk{{tok1(1)}, {tok1(1), tok1(2)}}, 2, "chunk 1 has 2 tokens"},
		{"short hidden", make([]float32, 4), nil, make([]float32, 3), nil, c1, 2, "hidden states have 3 values"},
		{"weighted needs the empty row", make([]float32, 4), nil, make([]float32, 4), nil, []Chunk{{tok1(1), tw(2, 2)}}, 2, "want 2 rows"},
		{"short output", make([]float32, 3), nil, make([]float32, 4), nil, c1, 2, "output has 3 values"},
		{"pooled rows", make([]float32, 4), make([]float32, 3), make([]float32, 4), make([]float32, 5), c1, 2, "pooled outputs have 5 values"},
	}
	for _, c := range cases {
		err := Conditioning(c.cond, c.pooledOut, c.hidden, c.pld, c.chunks, c.dim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestConditioningAllocs(t *testing.T) {
	tk := tiny(t)
	chunks, err := tk.TokenizeWithWeights("(cat:1.3) dog "+words("cat", 100), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const dim = 16
	rows := len(chunks) + 1
	hidden := make([]float32, rows*77*dim)
	for i := range hidden {
		hidden[i] = float32(i % 97)
	}
	pooled := make([]float32, rows*4)
	cond, pooledOut := make([]float32, len(chunks)*77*dim), make([]float32, 4)
	allocs := testing.AllocsPerRun(20, func() {
		if err := Conditioning(cond, pooledOut, hidden, pooled, chunks, dim); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per call", allocs)
	}
}
