// Package spell suggests the nearest of a set of names for a misspelt one
// ("did you mean …?"), in the style of starlark's internal/spell.
//
// Distances are optimal-string-alignment edit distances (insertions,
// deletions, substitutions and transpositions of adjacent characters each
// cost 1) computed over Unicode code points, case-insensitively. Package
// spell imports nothing from the project.
package spell

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Nearest returns the candidate nearest to x, or "" when none is near
// enough. A candidate is near enough when its distance to x is at most
// MaxDistance(x). A candidate equal to x is never suggested. Ties go to the
// smaller distance when case is respected, then to the lexically smallest
// candidate, so the answer does not depend on the order of candidates. The
// empty name has no suggestion.
func Nearest(x string, candidates []string) string {
	if x == "" {
		return ""
	}
	lx := strings.ToLower(x)
	nx := utf8.RuneCountInString(x)
	limit := MaxDistance(x)
	best, bestD, bestExact := "", limit+1, 0
	for _, c := range candidates {
		if c == x || c == "" {
			continue
		}
		// A length difference alone exceeds the limit: skip the cheap way
		// (most candidates, for a long class list).
		if nc := utf8.RuneCountInString(c); nc-nx > limit || nx-nc > limit {
			continue
		}
		d := distance(lx, c, limit, true)
		if d > limit {
			continue
		}
		exact := Distance(x, c, -1)
		switch {
		case best == "", d < bestD,
			d == bestD && exact < bestExact,
			d == bestD && exact == bestExact && c < best:
			best, bestD, bestExact = c, d, exact
		}
	}
	return best
}

// MaxDistance is the largest distance at which Nearest still suggests a
// candidate for x: a third of its length, at least 1 and at most 5.
func MaxDistance(x string) int {
	n := utf8.RuneCountInString(x) / 3
	if n < 1 {
		n = 1
	}
	if n > 5 {
		n = 5
	}
	return n
}

// Distance returns the optimal-string-alignment distance between a and b
// (case-sensitive). When limit >= 0 and the distance exceeds it, Distance
// returns limit+1 (possibly early, from the lengths alone).
func Distance(a, b string, limit int) int { return distance(a, b, limit, false) }

// distance is Distance, lower-casing b first when fold is set (without
// allocating, unlike strings.ToLower).
func distance(a, b string, limit int, fold bool) int {
	// Short names (all real class and input names) use stack buffers:
	// no allocation.
	var bufA, bufB [64]rune
	var rows [3][65]int
	ra, rb := appendRunes(bufA[:0], a, false), appendRunes(bufB[:0], b, fold)
	if limit >= 0 {
		if d := len(ra) - len(rb); d > limit || -d > limit {
			return limit + 1
		}
	}
	if len(ra) == 0 {
		return len(rb)
	}
	if len(rb) == 0 {
		return len(ra)
	}
	// Three rows: i-2, i-1, i.
	var prev2, prev, cur []int
	if len(rb) < len(rows[0]) {
		prev2, prev, cur = rows[0][:len(rb)+1], rows[1][:len(rb)+1], rows[2][:len(rb)+1]
	} else {
		prev2, prev, cur = make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		if limit >= 0 && i > 1 {
			// Every path goes through row i or i-1 (transpositions reach
			// back one row): once both exceed the limit, so does the end.
			rowMin := cur[0]
			for j := range cur {
				rowMin = min(rowMin, cur[j], prev[j])
			}
			if rowMin > limit {
				return limit + 1
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	d := prev[len(rb)]
	if limit >= 0 && d > limit {
		return limit + 1
	}
	return d
}

// appendRunes appends the runes of s to buf.
func appendRunes(buf []rune, s string, lower bool) []rune {
	for _, r := range s {
		if lower {
			r = unicode.ToLower(r)
		}
		buf = append(buf, r)
	}
	return buf
}
