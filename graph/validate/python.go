package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"comfyrt/internal/jsonx"
)

// This file reproduces the Python semantics ComfyUI's validate_inputs
// relies on: how json.loads reads numbers, int()/float()/str()/bool()
// coercion with CPython's exception messages, comparisons, equality
// (`val not in choices`) and str()/repr() formatting.
//
// A "Python value" here is one of: nil (None), bool, string, *big.Int (int),
// float64 (float), []any (list) and jsonx.Object (dict). json.Number is
// converted with pyValue, as json.loads would read it.

// pyValue converts a decoded JSON value to a Python value: numbers with a
// fraction or exponent become float64 (±Inf when out of range, as
// json.loads gives), others *big.Int (exact, any size). Lists and objects
// are returned as they are; their elements are converted lazily.
func pyValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRangeErr(err) {
			return s // not a JSON number; keep the text
		}
		return f
	}
	i, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return s
	}
	return i
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// pyTypeName is type(v).__name__.
func pyTypeName(v any) string {
	switch pyValue(v).(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case *big.Int:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case jsonx.Object:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyStr is Python's str(v).
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v).
func pyRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch v := pyValue(v).(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(strRepr(v))
	case *big.Int:
		b.WriteString(v.String())
	case float64:
		b.WriteString(floatRepr(v))
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e)
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strRepr(e))
		}
		b.WriteByte(']')
	case jsonx.Object:
		b.WriteByte('{')
		for i, m := range pyDict(v) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strRepr(m.Key))
			b.WriteString(": ")
			writeRepr(b, m.Value)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, v)
	}
}

// pyDict returns the members of o as json.loads keeps them: a repeated key
// keeps its first position and its last value.
func pyDict(o jsonx.Object) jsonx.Object {
	seen := map[string]int{}
	var out jsonx.Object
	for _, m := range o {
		if i, ok := seen[m.Key]; ok {
			out[i].Value = m.Value
			continue
		}
		seen[m.Key] = len(out)
		out = append(out, m)
	}
	return out
}

// strRepr is Python's repr of a str: single quotes unless the text holds a
// single quote and no double quote; backslash escapes for the quote, '\\',
// \t \n \r, and \xNN, \uNNNN or \UNNNNNNNN for characters that are not
// printable.
func strRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError && size == 1:
			// Not reachable for text that came from JSON (always valid UTF-8).
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case !pyPrintable(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyPrintable approximates str.isprintable for one non-ASCII character:
// not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs.
func pyPrintable(r rune) bool {
	if unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) ||
		unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) ||
		unicode.Is(unicode.Cs, r) {
		return false
	}
	return unicode.IsGraphic(r) || unicode.IsPrint(r)
}

// floatRepr is Python's repr(float): the shortest digits that read back
// exactly, in fixed notation when the decimal exponent is in [-4, 16),
// else in exponent notation with a sign and at least two exponent digits;
// integral values in fixed notation end in ".0".
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // "-d.ddde±XX"
	neg := strings.HasPrefix(e, "-")
	e = strings.TrimPrefix(e, "-")
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1 // value = 0.digits × 10^decpt
	var out string
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			out = "0." + strings.Repeat("0", -decpt) + digits
		case decpt >= len(digits):
			out = digits + strings.Repeat("0", decpt-len(digits)) + ".0"
		default:
			out = digits[:decpt] + "." + digits[decpt:]
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// pyStrip strips what Python's str.strip() strips.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// asciiDigits rewrites Unicode decimal digits (category Nd) as ASCII
// digits, as CPython does before parsing numbers; other characters are
// kept.
func asciiDigits(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= utf8.RuneSelf && unicode.Is(unicode.Nd, r) {
			first := r
			for unicode.Is(unicode.Nd, first-1) {
				first--
			}
			b.WriteByte(byte('0' + (r-first)%10))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitsWithUnderscores reports whether s is one or more ASCII digits with
// single underscores between digits, and returns it without underscores.
func digitsWithUnderscores(s string) (string, bool) {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return "", false
	}
	var b strings.Builder
	prevUnderscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
			prevUnderscore = false
		case c == '_' && !prevUnderscore:
			prevUnderscore = true
		default:
			return "", false
		}
	}
	return b.String(), true
}

// maxStrDigits is CPython's default limit on int/str conversions (3.11+).
const maxStrDigits = 4300

// pyInt is Python's int(v). err is CPython's exception message.
func pyInt(v any) (*big.Int, string) {
	switch v := pyValue(v).(type) {
	case bool:
		if v {
			return big.NewInt(1), ""
		}
		return big.NewInt(0), ""
	case *big.Int:
		return v, ""
	case float64:
		if math.IsInf(v, 0) {
			return nil, "cannot convert float infinity to integer"
		}
		if math.IsNaN(v) {
			return nil, "cannot convert float NaN to integer"
		}
		i, _ := new(big.Float).SetFloat64(v).Int(nil)
		return i, ""
	case string:
		bad := "invalid literal for int() with base 10: " + strRepr(v)
		s := asciiDigits(pyStrip(v))
		neg := false
		if s != "" && (s[0] == '+' || s[0] == '-') {
			neg = s[0] == '-'
			s = s[1:]
		}
		digits, ok := digitsWithUnderscores(s)
		if !ok {
			return nil, bad
		}
		if len(digits) > maxStrDigits {
			return nil, fmt.Sprintf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit", maxStrDigits, len(digits))
		}
		i, _ := new(big.Int).SetString(digits, 10)
		if neg {
			i.Neg(i)
		}
		return i, ""
	default:
		return nil, "int() argument must be a string, a bytes-like object or a real number, not '" + pyTypeName(v) + "'"
	}
}

// pyFloat is Python's float(v). err is CPython's exception message.
func pyFloat(v any) (float64, string) {
	switch v := pyValue(v).(type) {
	case bool:
		if v {
			return 1, ""
		}
		return 0, ""
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		if math.IsInf(f, 0) {
			return 0, "int too large to convert to float"
		}
		return f, ""
	case float64:
		return v, ""
	case string:
		f, ok := parsePyFloat(v)
		if !ok {
			return 0, "could not convert string to float: " + strRepr(v)
		}
		return f, ""
	default:
		return 0, "float() argument must be a string or a real number, not '" + pyTypeName(v) + "'"
	}
}

// parsePyFloat parses what Python's float(str) accepts: surrounding
// whitespace, a sign, then inf, infinity or nan (any case), or decimal
// digits (underscores between digits allowed) with an optional fraction and
// exponent. Hexadecimal is not accepted.
func parsePyFloat(v string) (float64, bool) {
	s := asciiDigits(pyStrip(v))
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	switch strings.ToLower(s) {
	case "inf", "infinity":
		if sign == "-" {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, hasDot := strings.Cut(mant, ".")
	var clean strings.Builder
	clean.WriteString(sign)
	if intPart != "" {
		d, ok := digitsWithUnderscores(intPart)
		if !ok {
			return 0, false
		}
		clean.WriteString(d)
	} else {
		clean.WriteByte('0')
	}
	if hasDot {
		clean.WriteByte('.')
		if frac != "" {
			d, ok := digitsWithUnderscores(frac)
			if !ok {
				return 0, false
			}
			clean.WriteString(d)
		}
	}
	if intPart == "" && frac == "" {
		return 0, false
	}
	if hasExp {
		es := ""
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			es, exp = exp[:1], exp[1:]
		}
		d, ok := digitsWithUnderscores(exp)
		if !ok {
			return 0, false
		}
		clean.WriteString("e" + es + d)
	}
	f, err := strconv.ParseFloat(clean.String(), 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return f, true
}

// pyBool is Python's bool(v): false for None, False, 0, 0.0, "" and empty
// containers.
func pyBool(v any) bool {
	switch v := pyValue(v).(type) {
	case nil:
		return false
	case bool:
		return v
	case *big.Int:
		return v.Sign() != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case jsonx.Object:
		return len(v) > 0
	}
	return true
}

// pyNumber returns v as an exact number when it is a Python number (bool,
// int or finite float); inf reports ±1 in inf; nan reports nan.
func pyNumber(v any) (r *big.Rat, inf int, nan, ok bool) {
	switch v := pyValue(v).(type) {
	case bool:
		if v {
			return big.NewRat(1, 1), 0, false, true
		}
		return new(big.Rat), 0, false, true
	case *big.Int:
		return new(big.Rat).SetInt(v), 0, false, true
	case float64:
		switch {
		case math.IsNaN(v):
			return nil, 0, true, true
		case math.IsInf(v, 1):
			return nil, 1, false, true
		case math.IsInf(v, -1):
			return nil, -1, false, true
		}
		return new(big.Rat).SetFloat64(v), 0, false, true
	}
	return nil, 0, false, false
}

// maxExact is the largest integer magnitude float64 holds exactly.
const maxExact = 1 << 53

// smallNumber returns v as a float64 when that is exact: a bool, a float, or
// an integer of magnitude at most 2^53 (written as a json.Number, an int64
// or a *big.Int). ok is false for anything else, which pyCompare then
// compares with big arithmetic.
func smallNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case float64:
		return v, true
	case int64:
		if v >= -maxExact && v <= maxExact {
			return float64(v), true
		}
	case *big.Int:
		if v.IsInt64() {
			return smallNumber(v.Int64())
		}
	case json.Number:
		s := string(v)
		if strings.ContainsAny(s, ".eE") {
			f, err := strconv.ParseFloat(s, 64)
			return f, err == nil
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err == nil {
			return smallNumber(i)
		}
	}
	return 0, false
}

// pyCompare compares two Python numbers exactly, as Python does across
// int, float and bool. ok is false when either is not a number (Python
// would raise TypeError) or either is nan (every comparison is false).
func pyCompare(a, b any) (c int, ok bool) {
	if fa, ok := smallNumber(a); ok {
		if fb, ok := smallNumber(b); ok {
			// Both are exactly representable as float64: compare there
			// without big arithmetic (the common case of min/max checks).
			switch {
			case math.IsNaN(fa) || math.IsNaN(fb):
				return 0, false
			case fa < fb:
				return -1, true
			case fa > fb:
				return 1, true
			}
			return 0, true
		}
	}
	ar, ai, an, aok := pyNumber(a)
	br, bi, bn, bok := pyNumber(b)
	if !aok || !bok || an || bn {
		return 0, false
	}
	if ai != 0 || bi != 0 {
		switch {
		case ai == bi:
			return 0, true
		case ai > bi:
			return 1, true
		default:
			return -1, true
		}
	}
	return ar.Cmp(br), true
}

// pyEqual is Python's a == b for JSON-shaped values: numbers (and bools)
// compare by value, strings exactly, lists element by element, dicts as
// key→value maps.
func pyEqual(a, b any) bool {
	a, b = pyValue(a), pyValue(b)
	if c, ok := pyCompare(a, b); ok {
		return c == 0
	}
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		bs, ok := b.(string)
		return ok && a == bs
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !pyEqual(a[i], bl[i]) {
				return false
			}
		}
		return true
	case jsonx.Object:
		bo, ok := b.(jsonx.Object)
		if !ok {
			return false
		}
		ad, bd := pyDict(a), pyDict(bo)
		if len(ad) != len(bd) {
			return false
		}
		for _, m := range ad {
			w, ok := bd.Get(m.Key)
			if !ok || !pyEqual(m.Value, w) {
				return false
			}
		}
		return true
	}
	return false
}

// pyIn is Python's `v in list`.
func pyIn(v any, list []any) bool {
	for _, c := range list {
		if pyEqual(v, c) {
			return true
		}
	}
	return false
}

// toJSON converts a Python value back to the decoded-JSON form (jsonx
// tree): ints and finite floats become json.Number in Python's spelling
// (what json.dumps would write); ±inf and nan, which JSON cannot hold,
// become the strings "Infinity", "-Infinity" and "NaN" (json.dumps writes
// those words bare).
func toJSON(v any) any {
	switch v := v.(type) {
	case *big.Int:
		return json.Number(v.String())
	case float64:
		switch {
		case math.IsInf(v, 1):
			return "Infinity"
		case math.IsInf(v, -1):
			return "-Infinity"
		case math.IsNaN(v):
			return "NaN"
		}
		return json.Number(floatRepr(v))
	}
	return v
}
