// Package jsonx is the seam between comfyrt and its JSON decoders. It decodes
// JSON into an order-preserving generic tree (Object keeps its members in
// file order, numbers stay json.Number so 64-bit seeds survive exactly),
// encodes that tree back, and locates JSON pointers as line:column — a
// second, slower encoding/json pass that runs only when there are
// diagnostics to place.
//
// The fast path uses sonic's SAX visitor; DecodeStd is the encoding/json
// reference that the differential fuzz test compares it with.
package jsonx

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bytedance/sonic/ast"
)

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Object is a JSON object with its members in file order. Duplicate keys are
// kept; Get returns the last, as Python's json module does.
type Object []Member

// Get returns the value of key (the last one when repeated).
func (o Object) Get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// Keys returns the keys in order.
func (o Object) Keys() []string {
	ks := make([]string, len(o))
	for i, m := range o {
		ks[i] = m.Key
	}
	return ks
}

// Set replaces the value of key, or appends it.
func (o *Object) Set(key string, v any) {
	for i := len(*o) - 1; i >= 0; i-- {
		if (*o)[i].Key == key {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, Member{key, v})
}

// SyntaxError is a JSON syntax error with its position.
type SyntaxError struct {
	Msg       string
	Offset    int64
	Line, Col int
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid JSON at %d:%d: %s", e.Line, e.Col, e.Msg)
	}
	return "invalid JSON: " + e.Msg
}

// Decode parses data into a tree of Object, []any, json.Number, string,
// bool and nil. Invalid JSON yields a *SyntaxError with line and column.
func Decode(data []byte) (any, error) {
	// sonic's own validator accepts some invalid documents (control
	// characters and unterminated long strings, found by FuzzDecode), so
	// encoding/json's grammar decides validity (valid: the same grammar as
	// json.Valid, checked by FuzzLocateAll, without its per-byte calls).
	if !valid(data) || !utf8.Valid(data) {
		return nil, syntaxError(data)
	}
	b := &builder{frames: make([]frame, 0, 16), members: make([]Member, 0, 64), elems: make([]any, 0, 64)}
	if err := ast.Preorder(string(data), b, &ast.VisitorOptions{OnlyNumber: true}); err != nil {
		// sonic accepted what encoding/json validated: report through the
		// reference decoder, which knows positions.
		if _, err2 := DecodeStd(data); err2 != nil {
			return nil, err2
		}
		return nil, &SyntaxError{Msg: err.Error()}
	}
	return b.result, nil
}

// syntaxError finds the position of the first syntax error with encoding/json.
func syntaxError(data []byte) error {
	_, err := DecodeStd(data)
	if err == nil {
		err = &SyntaxError{Msg: "invalid UTF-8 or JSON"}
	}
	return err
}

// builder assembles the tree from sonic's visitor callbacks. The members
// and elements of the open containers wait on two shared stacks; a closed
// container gets one exactly-sized slice (no growth, no spare capacity).
type builder struct {
	frames  []frame
	members []Member // members of the open objects, innermost last
	elems   []any    // elements of the open arrays, innermost last
	result  any
}

type frame struct {
	isObj bool
	start int // where the container's members/elements start
	key   string
}

func (b *builder) value(v any) error {
	if len(b.frames) == 0 {
		b.result = v
		return nil
	}
	top := &b.frames[len(b.frames)-1]
	if top.isObj {
		b.members = append(b.members, Member{top.key, v})
	} else {
		b.elems = append(b.elems, v)
	}
	return nil
}

func (b *builder) OnNull() error           { return b.value(nil) }
func (b *builder) OnBool(v bool) error     { return b.value(v) }
func (b *builder) OnString(v string) error { return b.value(v) }
func (b *builder) OnInt64(_ int64, n json.Number) error {
	return b.value(n)
}
func (b *builder) OnFloat64(_ float64, n json.Number) error {
	return b.value(n)
}
func (b *builder) OnObjectBegin(int) error {
	b.frames = append(b.frames, frame{isObj: true, start: len(b.members)})
	return nil
}
func (b *builder) OnObjectKey(key string) error {
	b.frames[len(b.frames)-1].key = key
	return nil
}
func (b *builder) OnObjectEnd() error {
	top := b.frames[len(b.frames)-1]
	b.frames = b.frames[:len(b.frames)-1]
	obj := make(Object, len(b.members)-top.start)
	copy(obj, b.members[top.start:])
	clear(b.members[top.start:]) // drop references for the collector
	b.members = b.members[:top.start]
	return b.value(obj)
}
func (b *builder) OnArrayBegin(int) error {
	b.frames = append(b.frames, frame{start: len(b.elems)})
	return nil
}
func (b *builder) OnArrayEnd() error {
	top := b.frames[len(b.frames)-1]
	b.frames = b.frames[:len(b.frames)-1]
	arr := make([]any, len(b.elems)-top.start)
	copy(arr, b.elems[top.start:])
	clear(b.elems[top.start:])
	b.elems = b.elems[:top.start]
	return b.value(arr)
}

// DecodeStd is the encoding/json reference implementation of Decode.
func DecodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeStdValue(dec)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("invalid character after top-level value")
		}
	}
	if err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		line, col := LineCol(data, off)
		msg := err.Error()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			msg = "unexpected end of input"
		}
		return nil, &SyntaxError{Msg: msg, Offset: off, Line: line, Col: col}
	}
	if !utf8.Valid(data) {
		return nil, &SyntaxError{Msg: "invalid UTF-8"}
	}
	return v, nil
}

func decodeStdValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeStdValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, Member{k, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeStdValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// LineCol converts a byte offset into a 1-based line and column (columns
// count bytes).
func LineCol(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// Locate returns the 1-based line and column of the value that the JSON
// pointer (RFC 6901) addresses in data. When the pointer goes deeper than
// the document, the deepest existing value is located. ok is false when data
// is not JSON.
func Locate(data []byte, pointer string) (line, col int, ok bool) {
	var path []string
	if pointer != "" {
		for _, p := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			p = strings.ReplaceAll(p, "~1", "/")
			p = strings.ReplaceAll(p, "~0", "~")
			path = append(path, p)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	off, err := locate(dec, data, path)
	if err != nil && off < 0 {
		return 0, 0, false
	}
	line, col = LineCol(data, off)
	return line, col, true
}

// locate walks to path and returns the offset of the start of the value.
func locate(dec *json.Decoder, data []byte, path []string) (int64, error) {
	start := skipSpace(data, dec.InputOffset())
	if len(path) == 0 {
		return start, nil
	}
	t, err := dec.Token()
	if err != nil {
		return -1, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return start, nil
	}
	switch d {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return start, err
			}
			k, _ := kt.(string)
			if k == path[0] {
				// skip the ':' that follows the key
				return locate(dec, data, path[1:])
			}
			if err := skipValue(dec); err != nil {
				return start, err
			}
		}
	case '[':
		idx, err := strconv.Atoi(path[0])
		if err != nil {
			return start, nil
		}
		for i := 0; dec.More(); i++ {
			if i == idx {
				return locate(dec, data, path[1:])
			}
			if err := skipValue(dec); err != nil {
				return start, err
			}
		}
	}
	return start, nil
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// Pointer joins path segments into a JSON pointer, escaping '~' and '/'.
func Pointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		s = strings.ReplaceAll(s, "~", "~0")
		b.WriteString(strings.ReplaceAll(s, "/", "~1"))
	}
	return b.String()
}

// Pos is a 1-based line and column.
type Pos struct{ Line, Col int }

// LocateAll locates many JSON pointers in one pass over data (Locate does
// one pass per pointer). Each pointer maps to the position of the value it
// addresses, or of its deepest existing ancestor; pointers are absent from
// the result only when data is not JSON.
func LocateAll(data []byte, pointers []string) map[string]Pos {
	want := map[string]int{"": 0}
	for _, p := range pointers {
		for q := p; q != ""; q = q[:strings.LastIndexByte(q, '/')] {
			if _, ok := want[q]; ok {
				break
			}
			want[q] = len(want)
		}
	}
	offs := make([]int64, len(want))
	for i := range offs {
		offs[i] = -1
	}
	s := scanner{data: data, want: want, offs: offs, buf: make([]byte, 0, 64)}
	if !s.run() {
		// Not JSON: encoding/json's tokens, as far as they go.
		return locateAllStd(data, pointers)
	}
	// Each pointer's offset (its own, or its deepest located ancestor's),
	// then line:column in offset order, in one pass over data.
	type hit struct {
		off int64
		p   string
	}
	hits := make([]hit, 0, len(pointers))
	for _, p := range pointers {
		q := p
		for {
			if off := offs[want[q]]; off >= 0 {
				hits = append(hits, hit{off, p})
				break
			}
			if q == "" {
				break
			}
			q = q[:strings.LastIndexByte(q, '/')]
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.off, b.off) })
	out := make(map[string]Pos, len(pointers))
	lc := lineCounter{data: data}
	for _, h := range hits {
		out[h.p] = lc.pos(h.off)
	}
	return out
}

// lineCounter is LineCol for many offsets: it counts newlines from the
// last offset asked when offsets come in increasing order.
type lineCounter struct {
	data      []byte
	off       int64 // offsets below off are counted
	line      int   // newlines before off, plus 1
	lineStart int64 // offset after the last newline before off
}

func (c *lineCounter) pos(off int64) Pos {
	if off < c.off || c.line == 0 {
		c.off, c.line, c.lineStart = 0, 1, 0
	}
	seg := c.data[c.off:off]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		c.line += n
		c.lineStart = c.off + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	c.off = off
	return Pos{c.line, int(off-c.lineStart) + 1}
}

// locateAllStd is LocateAll with encoding/json's Decoder.Token: the
// reference, and the best-effort answer for data that is not JSON.
func locateAllStd(data []byte, pointers []string) map[string]Pos {
	want := map[string]bool{"": true}
	for _, p := range pointers {
		for q := p; q != ""; q = q[:strings.LastIndexByte(q, '/')] {
			if want[q] {
				break
			}
			want[q] = true
		}
	}
	offs := map[string]int64{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	_ = walkLocate(dec, data, "", want, offs) // best effort on invalid JSON
	out := make(map[string]Pos, len(pointers))
	for _, p := range pointers {
		q := p
		for {
			if off, ok := offs[q]; ok {
				line, col := LineCol(data, off)
				out[p] = Pos{line, col}
				break
			}
			if q == "" {
				break
			}
			q = q[:strings.LastIndexByte(q, '/')]
		}
	}
	return out
}

// walkLocate reads one value, recording the start offsets of the values
// whose pointer is wanted; it skips subtrees nothing wanted lies in.
func walkLocate(dec *json.Decoder, data []byte, path string, want map[string]bool, offs map[string]int64) error {
	offs[path] = skipSpace(data, dec.InputOffset())
	t, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			child := path + Pointer(k)
			if want[child] {
				if err := walkLocate(dec, data, child, want, offs); err != nil {
					return err
				}
			} else if err := skipValue(dec); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			child := path + "/" + strconv.Itoa(i)
			if want[child] {
				if err := walkLocate(dec, data, child, want, offs); err != nil {
					return err
				}
			} else if err := skipValue(dec); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token()
	return err
}
