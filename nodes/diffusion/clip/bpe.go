package clip

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// Budgets of the tokenizer files, checked before decoding. The real CLIP
// files are about 1.1 MB (vocab.json, 49408 entries) and 0.5 MB
// (merges.txt).
const (
	MaxVocabBytes   = 16 << 20
	MaxMergesBytes  = 16 << 20
	MaxVocabEntries = 1 << 18
	// maxMerges is the number of merges transformers' CLIPTokenizer reads
	// (49152 − 256 − 2, the rest of the file is ignored).
	maxMerges = 49152 - 256 - 2
	// cacheLimit bounds the per-word cache; it is emptied when full.
	cacheLimit = 1 << 14
)

// The special tokens of the CLIP vocabulary.
const (
	StartText = "<|startoftext|>"
	EndText   = "<|endoftext|>"
	wordEnd   = "</w>"
)

// Tokenizer is a CLIP byte-level BPE tokenizer. It is safe for concurrent
// use.
type Tokenizer struct {
	start, end int32 // ids of <|startoftext|> and <|endoftext|> (also the unknown token)
	vocabSize  int

	// Symbols are interned strings (bytes, merge parts and results); symID
	// maps a symbol to its vocabulary id, or -1 when it has none.
	symID   []int32
	ranks   map[uint64]merge // pair (a<<32 | b) of symbols → merge
	byteSym [256]int32       // the symbol of each byte's character
	byteEnd [256]int32       // the same with </w>

	mu    sync.Mutex
	cache map[string][]int32
}

type merge struct {
	rank   int32
	result int32
}

// Load reads dir/vocab.json and dir/merges.txt from fsys (for an exported
// model, dir is its "tokenizer" folder).
func Load(fsys fs.FS, dir string) (*Tokenizer, error) {
	vf, err := fsys.Open(path.Join(dir, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("clip tokenizer: %w", err)
	}
	defer vf.Close()
	mf, err := fsys.Open(path.Join(dir, "merges.txt"))
	if err != nil {
		return nil, fmt.Errorf("clip tokenizer: %w", err)
	}
	defer mf.Close()
	return New(vf, mf)
}

// New reads a tokenizer from the contents of vocab.json and merges.txt.
func New(vocabJSON, mergesTxt io.Reader) (*Tokenizer, error) {
	vocab, err := readVocab(vocabJSON)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{vocabSize: len(vocab), ranks: make(map[uint64]merge), cache: make(map[string][]int32)}
	var ok bool
	if t.start, ok = vocab[StartText]; !ok {
		return nil, fmt.Errorf("clip tokenizer: vocab.json has no %s token", StartText)
	}
	if t.end, ok = vocab[EndText]; !ok {
		return nil, fmt.Errorf("clip tokenizer: vocab.json has no %s token", EndText)
	}
	syms := make(map[string]int32)
	intern := func(s string) int32 {
		if id, ok := syms[s]; ok {
			return id
		}
		id := int32(len(t.symID))
		syms[s] = id
		v, ok := vocab[s]
		if !ok {
			v = -1
		}
		t.symID = append(t.symID, v)
		return id
	}
	for b := range 256 {
		c := string(byteRune[b])
		t.byteSym[b] = intern(c)
		t.byteEnd[b] = intern(c + wordEnd)
	}
	if err := t.readMerges(mergesTxt, intern); err != nil {
		return nil, err
	}
	return t, nil
}

// readAll reads r whole, refusing more than limit bytes.
func readAll(r io.Reader, limit int64, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("clip tokenizer: reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("clip tokenizer: %s is over the %d MiB limit", name, limit>>20)
	}
	return data, nil
}

func readVocab(r io.Reader) (map[string]int32, error) {
	data, err := readAll(r, MaxVocabBytes, "vocab.json")
	if err != nil {
		return nil, err
	}
	bad := func(err error) error { return fmt.Errorf("clip tokenizer: vocab.json: %w", err) }
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return nil, bad(err)
	} else if tok != json.Delim('{') {
		return nil, bad(errors.New("not a JSON object"))
	}
	vocab := make(map[string]int32)
	for dec.More() {
		if len(vocab) == MaxVocabEntries {
			return nil, fmt.Errorf("clip tokenizer: vocab.json has more than %d entries", MaxVocabEntries)
		}
		kt, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		key, _ := kt.(string)
		var v int64
		if err := dec.Decode(&v); err != nil {
			return nil, bad(fmt.Errorf("id of %q: %w", key, err))
		}
		if v < 0 || v >= MaxVocabEntries {
			return nil, bad(fmt.Errorf("id %d of %q is outside [0, %d)", v, key, MaxVocabEntries))
		}
		vocab[key] = int32(v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad(errors.New("data after the object"))
	}
	return vocab, nil
}

// readMerges reads merges.txt as transformers' CLIPTokenizer does: the
// first line (#version) skipped, at most maxMerges lines, a later
// duplicate taking the later rank.
func (t *Tokenizer) readMerges(r io.Reader, intern func(string) int32) error {
	data, err := readAll(r, MaxMergesBytes, "merges.txt")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimSpace(data)))
	sc.Buffer(nil, len(data)+1)
	line, rank := 0, int32(0)
	for sc.Scan() {
		line++
		if line == 1 {
			continue
		}
		if rank == maxMerges {
			break
		}
		parts := strings.Fields(sc.Text())
		if len(parts) == 0 { // a blank line takes a rank and merges nothing, as there
			rank++
			continue
		}
		if len(parts) != 2 {
			return fmt.Errorf("clip tokenizer: merges.txt line %d: want two symbols, got %d", line, len(parts))
		}
		a, b := intern(parts[0]), intern(parts[1])
		t.ranks[pairKey(a, b)] = merge{rank: rank, result: intern(parts[0] + parts[1])}
		rank++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("clip tokenizer: merges.txt: %w", err)
	}
	if len(t.ranks) == 0 {
		return errors.New("clip tokenizer: merges.txt has no merges")
	}
	return nil
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// StartID and EndID are the ids of <|startoftext|> and <|endoftext|>.
func (t *Tokenizer) StartID() int32 { return t.start }

// EndID is the id of <|endoftext|>, also used for pieces missing from the
// vocabulary.
func (t *Tokenizer) EndID() int32 { return t.end }

// VocabSize is the number of entries of vocab.json.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// Encode returns the token ids of text without start and end tokens, as
// transformers' CLIPTokenizer(text)["input_ids"][1:-1].
func (t *Tokenizer) Encode(text string) []int32 {
	return t.AppendEncode(nil, text)
}

// AppendEncode appends the token ids of text to dst.
func (t *Tokenizer) AppendEncode(dst []int32, text string) []int32 {
	clean := normalize(text)
	for i := 0; i < len(clean); {
		piece, special, n := nextPiece(clean[i:])
		i += n
		switch {
		case piece == "":
		case special == StartText:
			dst = append(dst, t.start)
		case special == EndText:
			dst = append(dst, t.end)
		default:
			dst = t.appendWord(dst, piece)
		}
	}
	return dst
}

// appendWord appends the BPE ids of one pre-token.
func (t *Tokenizer) appendWord(dst []int32, piece string) []int32 {
	t.mu.Lock()
	ids, ok := t.cache[piece]
	t.mu.Unlock()
	if ok {
		return append(dst, ids...)
	}
	word := make([]int32, len(piece))
	for i := 0; i < len(piece); i++ {
		word[i] = t.byteSym[piece[i]]
	}
	word[len(word)-1] = t.byteEnd[piece[len(piece)-1]]
	word = t.bpe(word)
	for i, s := range word {
		if id := t.symID[s]; id >= 0 {
			word[i] = id
		} else {
			word[i] = t.end
		}
	}
	t.mu.Lock()
	if len(t.cache) >= cacheLimit {
		clear(t.cache)
	}
	t.cache[strings.Clone(piece)] = word // piece points into the whole prompt
	t.mu.Unlock()
	return append(dst, word...)
}

// bpe merges the lowest-ranked adjacent pair, every occurrence left to
// right, until no pair has a rank; word is rewritten in place.
func (t *Tokenizer) bpe(word []int32) []int32 {
	for len(word) > 1 {
		best, bestRank := -1, int32(0)
		for i := 0; i+1 < len(word); i++ {
			if m, ok := t.ranks[pairKey(word[i], word[i+1])]; ok && (best < 0 || m.rank < bestRank) {
				best, bestRank = i, m.rank
			}
		}
		if best < 0 {
			break
		}
		a, b := word[best], word[best+1]
		res := t.ranks[pairKey(a, b)].result
		out := word[:best]
		for i := best; i < len(word); {
			if i+1 < len(word) && word[i] == a && word[i+1] == b {
				out = append(out, res)
				i += 2
			} else {
				out = append(out, word[i])
				i++
			}
		}
		word = out
	}
	return word
}

// byteRune is GPT-2's reversible byte → character table: printable Latin-1
// bytes map to themselves, the others to U+0100 upwards in byte order.
var byteRune = func() (m [256]rune) {
	n := rune(0)
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = 256 + n
			n++
		}
	}
	return m
}()
