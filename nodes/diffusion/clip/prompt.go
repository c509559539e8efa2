package clip

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Limits of a prompt: its length in bytes, and how deep parentheses may
// nest (each level is a recursion of ComfyUI's token_weights, which fails
// near Python's recursion limit of 1000).
const (
	MaxPromptBytes = 256 << 10
	MaxNesting     = 200
)

// Segment is a piece of prompt text with its weight.
type Segment struct {
	Text   string
	Weight float64
}

// Escapes of literal parentheses while the weights are parsed (ComfyUI's
// escape_important / unescape_important).
const (
	escClose = "\x00\x01"
	escOpen  = "\x00\x02"
)

// ParseWeights splits a prompt into weighted segments as ComfyUI's
// token_weights(escape_important(prompt), 1.0) followed by
// unescape_important of each segment.
func ParseWeights(prompt string) ([]Segment, error) {
	if len(prompt) > MaxPromptBytes {
		return nil, fmt.Errorf("prompt is %d bytes, over the limit of %d", len(prompt), MaxPromptBytes)
	}
	text := strings.ReplaceAll(prompt, `\)`, escClose)
	text = strings.ReplaceAll(text, `\(`, escOpen)
	segs, err := tokenWeights(nil, text, 1.0, 0)
	if err != nil {
		return nil, err
	}
	for i := range segs {
		s := strings.ReplaceAll(segs[i].Text, escClose, ")")
		segs[i].Text = strings.ReplaceAll(s, escOpen, "(")
	}
	return segs, nil
}

var errNesting = errors.New("prompt: parentheses nest deeper than 200 levels")

// tokenWeights is ComfyUI's token_weights: a group "(…)" multiplies the
// weight by 1.1, or takes the number after its last colon when that colon
// is not the first character and the number parses.
func tokenWeights(out []Segment, s string, weight float64, depth int) ([]Segment, error) {
	if depth > MaxNesting {
		return nil, errNesting
	}
	var err error
	for _, x := range parseParentheses(s) {
		if len(x) < 2 || x[0] != '(' || x[len(x)-1] != ')' {
			out = append(out, Segment{Text: x, Weight: weight})
			continue
		}
		inner, w := x[1:len(x)-1], weight*1.1
		if c := strings.LastIndexByte(inner, ':'); c > 0 {
			if f, ok := pyFloat(inner[c+1:]); ok {
				inner, w = inner[:c], f
			}
		}
		if out, err = tokenWeights(out, inner, w, depth+1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseParentheses is ComfyUI's parse_parentheses: the top-level groups
// "(…)" and the text between them, in order. A ')' with no open group
// drives the level negative, as there; what follows it is plain text
// until the level is back to zero.
func parseParentheses(s string) []string {
	var out []string
	start, level := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			if level == 0 {
				if i > start {
					out = append(out, s[start:i])
				}
				start = i
			}
			level++
		case ')':
			level--
			if level == 0 {
				out = append(out, s[start:i+1])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// pyFloat parses s as Python's float(): surrounding whitespace, Unicode
// decimal digits, underscores between digits, inf, infinity and nan (any
// case, signed) accepted; no hexadecimal.
func pyFloat(s string) (float64, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case isPySpace(r):
			b.WriteByte(' ')
		case r < 0x80:
			b.WriteRune(r)
		default:
			d, ok := decimalValue(r)
			if !ok {
				return 0, false
			}
			b.WriteByte(byte('0' + d))
		}
	}
	t := strings.Trim(b.String(), " \t\n\v\f\r")
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if strings.HasPrefix(t, "-") {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	if !pyDecimal(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// pyDecimal checks Python's float literal grammar without sign:
// digitpart ["." [digitpart]] [exponent] | "." digitpart [exponent], where
// digitpart is digits with single underscores between them.
func pyDecimal(s string) bool {
	i := 0
	digits := func() bool { // digitpart at s[i:]
		start := i
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_' && i > start && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9') {
			i++
		}
		return i > start
	}
	intPart := digits()
	fracPart := false
	if i < len(s) && s[i] == '.' {
		i++
		fracPart = digits()
	}
	if !intPart && !fracPart {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// decimalValue is the value of a Unicode decimal digit (category Nd, whose
// ranges are whole runs of 0–9).
func decimalValue(r rune) (int, bool) {
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}
