package clip_test

import (
	"fmt"
	"os"

	"comfyrt/nodes/diffusion/clip"
)

// The CLIPTextEncode flow: tokenize the prompt, encode the rows, weigh.
func Example() {
	tok, err := clip.Load(os.DirFS("testdata"), "tiny") // an exported model's "tokenizer" folder
	if err != nil {
		panic(err)
	}
	chunks, err := tok.TokenizeWithWeights("the (cat:1.5)", clip.Options{})
	if err != nil {
		panic(err)
	}
	rows, err := tok.EncoderRows(chunks, clip.Options{}) // the chunks, then the empty prompt
	if err != nil {
		panic(err)
	}
	fmt.Println(len(chunks), len(rows), chunks[0][:4], rows[1][:3])

	// The text encoder's hidden states for the rows (width 1 here).
	const dim = 1
	hidden := make([]float32, len(rows)*77*dim)
	for i := range hidden {
		hidden[i] = 2 // every chunk token
	}
	for i := len(chunks) * 77; i < len(hidden); i++ {
		hidden[i] = 1 // the empty prompt
	}
	cond := make([]float32, len(chunks)*77*dim)
	if err := clip.Conditioning(cond, nil, hidden, nil, chunks, dim); err != nil {
		panic(err)
	}
	fmt.Println(cond[:4]) // "cat" weighted: (2 − 1)·1.5 + 1
	// Output:
	// 1 2 [{20 1} {8 1} {6 1.5} {21 1}] [{20 1} {21 1} {21 1}]
	// [2 2 2.5 2]
}
