package clip

import "fmt"

// Conditioning computes ComfyUI's text conditioning from the text
// encoder's outputs for the rows EncoderRows gave (encode_token_weights).
//
// hidden holds the encoder's hidden states, rows × tokens × dim float32 in
// row order, where tokens is the chunk length; pooled holds its pooled
// outputs, rows × len(pooledOut) (nil, with an empty pooledOut, when the
// model has none). cond receives len(chunks) × tokens × dim: the chunks'
// hidden states concatenated along the token axis, each token whose weight
// w differs from 1 replaced by (z − z_empty)·w + z_empty, z_empty being the
// empty prompt's row (the last one) at the same position; pooledOut
// receives the first row's pooled output. Nothing is allocated.
func Conditioning(cond, pooledOut, hidden, pooled []float32, chunks []Chunk, dim int) error {
	if len(chunks) == 0 || dim <= 0 {
		return fmt.Errorf("clip conditioning: %d chunks of dimension %d", len(chunks), dim)
	}
	tokens := len(chunks[0])
	for i, ch := range chunks {
		if len(ch) != tokens {
			return fmt.Errorf("clip conditioning: chunk %d has %d tokens, chunk 0 has %d", i, len(ch), tokens)
		}
	}
	weighted := HasWeights(chunks)
	rows := len(chunks)
	if weighted {
		rows++
	}
	row := tokens * dim
	if len(hidden) != rows*row {
		return fmt.Errorf("clip conditioning: hidden states have %d values, want %d rows × %d tokens × %d", len(hidden), rows, tokens, dim)
	}
	if len(cond) != len(chunks)*row {
		return fmt.Errorf("clip conditioning: output has %d values, want %d chunks × %d tokens × %d", len(cond), len(chunks), tokens, dim)
	}
	if pd := len(pooledOut); len(pooled) != rows*pd {
		return fmt.Errorf("clip conditioning: pooled outputs have %d values, want %d rows × %d", len(pooled), rows, pd)
	}
	copy(pooledOut, pooled)
	copy(cond, hidden[:len(cond)])
	if !weighted {
		return nil
	}
	empty := hidden[len(chunks)*row:]
	for k, ch := range chunks {
		for j, tk := range ch {
			if tk.Weight == 1 {
				continue
			}
			weigh(cond[k*row+j*dim:k*row+(j+1)*dim], empty[j*dim:(j+1)*dim], float32(tk.Weight))
		}
	}
	return nil
}

// weigh sets z to (z − e)·w + e, each operation rounded to float32 as
// PyTorch computes it on float32 tensors (no fused multiply-add).
func weigh(z, e []float32, w float32) {
	e = e[:len(z)]
	for i, v := range z {
		d := v - e[i]
		p := float32(d * w)
		z[i] = p + e[i]
	}
}
