package jsonx

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal encodes a tree made of Object, map[string]any (keys sorted),
// []any, json.Number, string, bool, nil, the Go integer and float types,
// []string and []bool. indent "" gives compact output.
func Marshal(v any, indent string) ([]byte, error) {
	e := encoder{indent: indent}
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type encoder struct {
	buf    []byte
	indent string
}

func (e *encoder) newline(depth int) {
	if e.indent == "" {
		return
	}
	e.buf = append(e.buf, '\n')
	for i := 0; i < depth; i++ {
		e.buf = append(e.buf, e.indent...)
	}
}

func (e *encoder) colon() {
	e.buf = append(e.buf, ':')
	if e.indent != "" {
		e.buf = append(e.buf, ' ')
	}
}

func (e *encoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case string:
		e.buf = AppendString(e.buf, v)
	case json.Number:
		if v == "" {
			e.buf = append(e.buf, '0')
		} else {
			e.buf = append(e.buf, v...)
		}
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("jsonx: unsupported float %v", v)
		}
		e.buf = strconv.AppendFloat(e.buf, v, 'g', -1, 64)
	case float32:
		e.buf = strconv.AppendFloat(e.buf, float64(v), 'g', -1, 32)
	case Object:
		return e.object(v, depth)
	case map[string]any:
		o := make(Object, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			o = append(o, Member{k, v[k]})
		}
		return e.object(o, depth)
	case []any:
		return e.array(v, depth)
	case []string:
		return e.array(anys(v), depth)
	case []bool:
		return e.array(anys(v), depth)
	default:
		return e.marshaled(v, depth)
	}
	return nil
}

// object writes o's members in order.
func (e *encoder) object(o Object, depth int) error {
	if len(o) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	e.buf = append(e.buf, '{')
	for i, m := range o {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		e.buf = AppendString(e.buf, m.Key)
		e.colon()
		if err := e.value(m.Value, depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, '}')
	return nil
}

// array writes a's elements.
func (e *encoder) array(a []any, depth int) error {
	if len(a) == 0 {
		e.buf = append(e.buf, "[]"...)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i, x := range a {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline(depth + 1)
		if err := e.value(x, depth+1); err != nil {
			return err
		}
	}
	e.newline(depth)
	e.buf = append(e.buf, ']')
	return nil
}

// marshaled writes v as encoding/json (or its MarshalJSON) gives it,
// decoded and re-encoded in this encoder's layout.
func (e *encoder) marshaled(v any, depth int) error {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	t, err := Decode(b)
	if err != nil {
		return err
	}
	return e.value(t, depth)
}

// anys is s as a []any.
func anys[T any](s []T) []any {
	a := make([]any, len(s))
	for i, x := range s {
		a[i] = x
	}
	return a
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string. Like Python's json.dumps with
// ensure_ascii=False it leaves non-ASCII text as is; it does not escape
// '<', '>' or '&'.
func AppendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20 || c == 0x7f:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, `\ufffd`...)
			i++
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			continue
		}
		buf = append(buf, s[i:i+size]...)
		i += size
	}
	return append(buf, '"')
}
