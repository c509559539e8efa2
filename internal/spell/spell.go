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
	q := newQuery(x)
	var buf [64]rune
	for _, c := range candidates {
		if c == x || c == "" {
			continue
		}
		// A length difference alone exceeds the limit: skip the cheap way
		// (most candidates, for a long class list).
		if nc := utf8.RuneCountInString(c); nc-q.n > q.limit || q.n-nc > q.limit {
			continue
		}
		q.consider(c, appendRunes(buf[:0], c, true))
	}
	return q.best
}

// Index is a candidate list prepared for many Nearest queries: the
// candidates are lower-cased once and grouped by length.
type Index struct {
	byLen map[int][]entry // rune count → candidates
}

type entry struct {
	name   string
	folded []rune
	hist   []bucketCount // folded's runes by histogram bucket
}

// bucketCount is one bucket of a candidate's rune histogram.
type bucketCount struct {
	b uint8
	n int16
}

// NewIndex prepares candidates for Index.Nearest.
func NewIndex(candidates []string) *Index {
	ix := &Index{byLen: map[int][]entry{}}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		r := appendRunes(nil, c, true)
		var h [histSize]int16
		for _, x := range r {
			h[x%histSize]++
		}
		var hist []bucketCount
		for b, n := range h {
			if n > 0 {
				hist = append(hist, bucketCount{uint8(b), n})
			}
		}
		ix.byLen[len(r)] = append(ix.byLen[len(r)], entry{c, r, hist})
	}
	return ix
}

// Nearest is Nearest(x, candidates) for the candidates of the index.
func (ix *Index) Nearest(x string) string {
	if x == "" || ix == nil {
		return ""
	}
	q := newQuery(x)
	// Lengths nearest x's first, so that a close candidate found early
	// prunes the rest; pruning keeps ties, so the order does not change
	// the answer. (Lengths of the folded runes, which distances compare.)
	n := len(q.lx)
	scan := func(l int) {
		for i := range ix.byLen[l] {
			if e := &ix.byLen[l][i]; e.name != x {
				q.considerEntry(e)
			}
		}
	}
	scan(n)
	for off := 1; off <= q.limit; off++ {
		scan(n - off)
		scan(n + off)
	}
	return q.best
}

// considerEntry is consider for an indexed candidate, with its histogram
// ready and the best distance so far as the cut-off: a candidate that
// cannot tie the best is skipped.
func (q *query) considerEntry(e *entry) {
	cut := min(q.limit, q.bestD)
	if d := len(e.folded) - len(q.lx); d > cut || -d > cut {
		return
	}
	common := 0
	for _, bc := range e.hist {
		common += int(min(q.hist[bc.b], bc.n))
	}
	if l1 := len(q.lx) + len(e.folded) - 2*common; (l1+1)/2 > cut {
		return
	}
	d := distanceRunes(q.lx, e.folded, cut)
	if d > cut {
		return
	}
	exact := Distance(q.x, e.name, -1)
	switch {
	case q.best == "", d < q.bestD,
		d == q.bestD && exact < q.bestEx,
		d == q.bestD && exact == q.bestEx && e.name < q.best:
		q.best, q.bestD, q.bestEx = e.name, d, exact
	}
}

// query is one Nearest search: x lower-cased, its limit, the best so far.
type query struct {
	x      string
	lx     []rune
	n      int
	limit  int
	hist   [histSize]int16 // lx's runes by bucket
	best   string
	bestD  int
	bestEx int
	bufX   [64]rune
}

// histSize buckets runes for the histogram bound (any bucketing gives a
// lower bound; 128 keeps ASCII apart).
const histSize = 128

func newQuery(x string) *query {
	q := &query{x: x}
	q.lx = appendRunes(q.bufX[:0], strings.ToLower(x), false)
	q.n = utf8.RuneCountInString(x)
	q.limit = MaxDistance(x)
	q.bestD = q.limit + 1
	for _, r := range q.lx {
		q.hist[r%histSize]++
	}
	return q
}

// consider weighs candidate c, whose lower-cased runes are rc.
func (q *query) consider(c string, rc []rune) {
	// Lower bound: an insertion or deletion changes the rune histogram by
	// 1 (L1), a substitution by 2, a transposition by 0, so the distance
	// is at least half the L1 difference of the histograms.
	h := q.hist
	l1 := len(q.lx)
	for _, r := range rc {
		b := r % histSize
		if h[b] > 0 {
			l1--
		} else {
			l1++
		}
		h[b]--
	}
	if (l1+1)/2 > q.limit {
		return
	}
	d := distanceRunes(q.lx, rc, q.limit)
	if d > q.limit {
		return
	}
	exact := Distance(q.x, c, -1)
	switch {
	case q.best == "", d < q.bestD,
		d == q.bestD && exact < q.bestEx,
		d == q.bestD && exact == q.bestEx && c < q.best:
		q.best, q.bestD, q.bestEx = c, d, exact
	}
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
	return distanceRunes(appendRunes(bufA[:0], a, false), appendRunes(bufB[:0], b, fold), limit)
}

// distanceRunes is distance over runes.
func distanceRunes(ra, rb []rune, limit int) int {
	var rows [3][65]int
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
