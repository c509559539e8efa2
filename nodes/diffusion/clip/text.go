package clip

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalize cleans text as transformers' CLIPTokenizer does without ftfy
// (its BasicTokenizer with accents kept and no punctuation split): NUL,
// U+FFFD, control and unassigned characters dropped, spaces around CJK
// ideographs, words split on whitespace, each word put in Unicode NFC
// (after the cleaning, as BasicTokenizer does, so a combining mark after
// a dropped control character composes with the letter before it),
// lower-cased and joined by single spaces.
func normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	var word []rune
	emit := func() {
		if len(word) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(lowerWord(nfc(word)))
		word = word[:0]
	}
	for _, r := range text {
		switch {
		case r == 0 || r == utf8.RuneError || isControl(r):
		case isPySpace(r):
			emit()
		case isCJK(r):
			emit()
			word = append(word, r)
			emit()
		default:
			word = append(word, r)
		}
	}
	emit()
	return b.String()
}

// lowerWord is Python's str.lower of one word: Unicode lower case, with
// İ → i̇ and a final capital sigma → ς.
func lowerWord(w []rune) string {
	var b strings.Builder
	for i, r := range w {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(w, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma: a cased letter before (case-ignorable marks skipped) and none
// after, Unicode's Final_Sigma condition.
func finalSigma(w []rune, i int) bool {
	before := false
	for j := i - 1; j >= 0; j-- {
		if caseIgnorable(w[j]) {
			continue
		}
		before = cased(w[j])
		break
	}
	if !before {
		return false
	}
	for j := i + 1; j < len(w); j++ {
		if caseIgnorable(w[j]) {
			continue
		}
		return !cased(w[j])
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	return r == '\'' || r == '.' || r == ':' || r == '^' || r == '`' ||
		unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// isControl is transformers' _is_control: a category C character other
// than tab, newline and carriage return (unassigned ones included).
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.Is(unicode.C, r) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// isPySpace is Python's str.isspace, the separators of str.split().
func isPySpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// isCJK is transformers' _is_chinese_char (the CJK ideograph blocks).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

var contractions = [...]string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"}

// nextPiece returns the next match of CLIP's pre-tokenizer pattern in s
// (case-insensitive) and the bytes it consumed:
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// special is set when the match is one of the two special tokens. An
// empty piece means s held only spaces.
func nextPiece(s string) (piece, special string, n int) {
	i := 0
	for i < len(s) {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += sz
	}
	if i == len(s) {
		return "", "", i
	}
	rest := s[i:]
	for _, sp := range [...]string{StartText, EndText} {
		if len(rest) >= len(sp) && strings.EqualFold(rest[:len(sp)], sp) {
			return rest[:len(sp)], sp, i + len(sp)
		}
	}
	r, sz := utf8.DecodeRuneInString(rest)
	if r == '\'' {
		for _, c := range contractions {
			if m := foldPrefix(rest, c); m > 0 {
				return rest[:m], "", i + m
			}
		}
	}
	var j int
	switch {
	case unicode.IsLetter(r):
		j = runLen(rest, unicode.IsLetter)
	case unicode.IsNumber(r):
		j = sz
	default:
		j = runLen(rest, func(r rune) bool {
			return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r)
		})
	}
	return rest[:j], "", i + j
}

// foldPrefix returns the byte length of the prefix of s that equals c
// under simple case folding, or 0.
func foldPrefix(s, c string) int {
	n := 0
	for _, want := range c {
		if n >= len(s) {
			return 0
		}
		r, sz := utf8.DecodeRuneInString(s[n:])
		if !strings.EqualFold(string(r), string(want)) {
			return 0
		}
		n += sz
	}
	return n
}

// runLen is the byte length of the longest prefix of s whose runes all
// satisfy ok (at least one rune: the caller checked the first).
func runLen(s string, ok func(rune) bool) int {
	n := 0
	for n < len(s) {
		r, sz := utf8.DecodeRuneInString(s[n:])
		if !ok(r) {
			break
		}
		n += sz
	}
	return n
}

// nfc is w in Unicode normalisation form C; w itself when it already is.
// An ASCII word (the common case) allocates nothing; checking another
// word converts it to a string.
func nfc(w []rune) []rune {
	for _, r := range w {
		if r >= utf8.RuneSelf {
			if s := string(w); !norm.NFC.IsNormalString(s) {
				return []rune(norm.NFC.String(s))
			}
			return w
		}
	}
	return w
}
