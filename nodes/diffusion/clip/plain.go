package clip

import "fmt"

// TokenizePlain tokenizes text as diffusers' encode_prompt has
// transformers' CLIPTokenizer do it (padding "max_length", max_length 77,
// truncation): <|startoftext|>, the text's first o.MaxLength−2 tokens,
// <|endoftext|>, then the pad token (<|endoftext|>, or 0 with
// Options.PadWithZero) up to o.MaxLength. There is no weighting syntax:
// parentheses, colons, backslashes and "embedding:" are text like any
// other, and every token's weight is 1. Text over MaxPromptBytes is an
// error.
func (t *Tokenizer) TokenizePlain(text string, o Options) (Chunk, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if len(text) > MaxPromptBytes {
		return nil, fmt.Errorf("clip tokenizer: the text is %d bytes; at most %d", len(text), MaxPromptBytes)
	}
	ids := t.Encode(text)
	ids = ids[:min(len(ids), o.MaxLength-2)]
	c := make(Chunk, 0, o.MaxLength)
	c = append(c, Token{ID: t.start, Weight: 1})
	for _, id := range ids {
		c = append(c, Token{ID: id, Weight: 1})
	}
	c = append(c, Token{ID: t.end, Weight: 1})
	for len(c) < o.MaxLength {
		c = append(c, Token{ID: t.pad(o), Weight: 1})
	}
	return c, nil
}
