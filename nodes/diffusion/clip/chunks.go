package clip

import (
	"fmt"
	"strings"
)

// Token is a token id with its prompt weight.
type Token struct {
	ID     int32
	Weight float64
}

// Chunk is one encoder input row: MaxLength tokens.
type Chunk []Token

// Options are the tokenizer settings of a CLIP model in ComfyUI's
// SDTokenizer; the zero value is SD1.x's (77 tokens, padded with
// <|endoftext|>, words of 8 tokens or more split across chunks).
type Options struct {
	MaxLength     int  // tokens per chunk; 0: 77
	MaxWordLength int  // groups this long may be split across chunks; 0: 8
	PadWithZero   bool // pad with id 0 (SD2's open_clip) instead of <|endoftext|>
}

func (o Options) resolve() (Options, error) {
	if o.MaxLength == 0 {
		o.MaxLength = 77
	}
	if o.MaxWordLength == 0 {
		o.MaxWordLength = 8
	}
	// A group shorter than MaxWordLength must fit in an empty chunk, or
	// ComfyUI's loop would never end.
	if o.MaxWordLength < 1 || o.MaxLength < o.MaxWordLength+1 || o.MaxLength > 1<<16 {
		return o, fmt.Errorf("clip tokenizer: bad options: max length %d, max word length %d", o.MaxLength, o.MaxWordLength)
	}
	return o, nil
}

func (t *Tokenizer) pad(o Options) int32 {
	if o.PadWithZero {
		return 0
	}
	return t.end
}

const embeddingID = "embedding:"

// EmbeddingError reports a textual-inversion embedding in a prompt, which
// comfyrt does not load.
type EmbeddingError struct {
	Name string
}

func (e *EmbeddingError) Error() string {
	return fmt.Sprintf("prompt uses the embedding %q (embedding:NAME): textual-inversion embeddings are not supported", e.Name)
}

// TokenizeWithWeights is ComfyUI's SDTokenizer.tokenize_with_weights: the
// prompt's weighted segments, each tokenized as one group, laid out in
// chunks of o.MaxLength tokens (see the package doc).
func (t *Tokenizer) TokenizeWithWeights(prompt string, o Options) ([]Chunk, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	segs, err := ParseWeights(prompt)
	if err != nil {
		return nil, err
	}
	c := chunker{o: o, start: t.start, end: t.end, pad: t.pad(o)}
	c.open()
	var ids []int32
	for _, s := range segs {
		if name, ok := embedding(s.Text); ok {
			return nil, &EmbeddingError{Name: name}
		}
		ids = t.AppendEncode(ids[:0], s.Text)
		c.add(ids, s.Weight)
	}
	return c.finish(), nil
}

// embedding finds an "embedding:NAME" word where ComfyUI looks for one: at
// the start of a segment or after a space or newline. NAME is the first
// whitespace-separated field after the colon.
func embedding(text string) (string, bool) {
	i := -1
	switch {
	case strings.HasPrefix(text, embeddingID):
		i = 0
	default:
		for _, sep := range [...]string{" ", "\n"} {
			if j := strings.Index(text, sep+embeddingID); j >= 0 && (i < 0 || j+1 < i) {
				i = j + 1
			}
		}
	}
	if i < 0 {
		return "", false
	}
	name := ""
	if f := strings.Fields(text[i+len(embeddingID):]); len(f) > 0 {
		name = f[0]
	}
	return name, true
}

// chunker lays groups of tokens out in chunks as ComfyUI's
// tokenize_with_weights does.
type chunker struct {
	o               Options
	start, end, pad int32
	chunks          []Chunk
	cur             Chunk
}

func (c *chunker) open() {
	c.cur = make(Chunk, 1, c.o.MaxLength)
	c.cur[0] = Token{ID: c.start, Weight: 1}
}

// add places one group: it goes whole into the current chunk when it fits
// (room for the end token kept); otherwise a long group fills the chunk
// and continues in the next, a short one starts the next chunk.
func (c *chunker) add(ids []int32, w float64) {
	large := len(ids) >= c.o.MaxWordLength
	for len(ids) > 0 {
		if len(ids)+len(c.cur) <= c.o.MaxLength-1 {
			c.appendIDs(ids, w)
			return
		}
		room := c.o.MaxLength - len(c.cur) - 1
		if large {
			c.appendIDs(ids[:room], w)
			ids = ids[room:]
		}
		c.close()
		c.open()
	}
}

func (c *chunker) appendIDs(ids []int32, w float64) {
	for _, id := range ids {
		c.cur = append(c.cur, Token{ID: id, Weight: w})
	}
}

// close ends the current chunk with the end token and pads it.
func (c *chunker) close() {
	c.cur = append(c.cur, Token{ID: c.end, Weight: 1})
	for len(c.cur) < c.o.MaxLength {
		c.cur = append(c.cur, Token{ID: c.pad, Weight: 1})
	}
	c.chunks = append(c.chunks, c.cur)
}

func (c *chunker) finish() []Chunk {
	c.close()
	return c.chunks
}

// HasWeights reports whether any token weight differs from 1; ComfyUI then
// encodes the empty prompt beside the chunks.
func HasWeights(chunks []Chunk) bool {
	for _, ch := range chunks {
		for _, tk := range ch {
			if tk.Weight != 1 {
				return true
			}
		}
	}
	return false
}

// EncoderRows returns the rows ComfyUI's encode_token_weights hands the
// text encoder in one batch: the chunks, then, when HasWeights, the empty
// prompt (start, end, then the model's pad token up to the chunk length).
func (t *Tokenizer) EncoderRows(chunks []Chunk, o Options) ([]Chunk, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	if len(chunks) == 0 {
		return nil, fmt.Errorf("clip tokenizer: no chunks to encode")
	}
	rows := append([]Chunk(nil), chunks...)
	if !HasWeights(chunks) {
		return rows, nil
	}
	n := o.MaxLength
	for _, ch := range chunks {
		n = max(n, len(ch))
	}
	empty := make(Chunk, n)
	for i := range empty {
		empty[i] = Token{ID: t.pad(o), Weight: 1}
	}
	empty[0].ID = t.start
	if n > 1 {
		empty[1].ID = t.end
	}
	return append(rows, empty), nil
}
