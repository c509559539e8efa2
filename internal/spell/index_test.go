package spell

import (
	"math/rand"
	"strings"
	"testing"
)

// nearestRef is Nearest without the shortcuts: every candidate's full
// distance.
func nearestRef(x string, candidates []string) string {
	if x == "" {
		return ""
	}
	lx := strings.ToLower(x)
	limit := MaxDistance(x)
	best, bestD, bestExact := "", limit+1, 0
	for _, c := range candidates {
		if c == x || c == "" {
			continue
		}
		d := distance(lx, c, -1, true)
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

func TestNearestMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	alphabet := []rune("abcABCxyzé\u0130KSampler_ \xff")
	word := func() string {
		var b strings.Builder
		for n := rng.Intn(14); n > 0; n-- {
			b.WriteRune(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	mutate := func(s string) string {
		r := []rune(s)
		for k := rng.Intn(4); k > 0 && len(r) > 0; k-- {
			i := rng.Intn(len(r))
			switch rng.Intn(4) {
			case 0:
				r = append(r[:i], r[i+1:]...)
			case 1:
				r[i] = alphabet[rng.Intn(len(alphabet))]
			case 2:
				r = append(r[:i], append([]rune{alphabet[rng.Intn(len(alphabet))]}, r[i:]...)...)
			default:
				if i+1 < len(r) {
					r[i], r[i+1] = r[i+1], r[i]
				}
			}
		}
		return string(r)
	}
	for round := 0; round < 300; round++ {
		var cands []string
		for n := rng.Intn(60); n > 0; n-- {
			cands = append(cands, word())
		}
		ix := NewIndex(cands)
		for k := 0; k < 20; k++ {
			x := word()
			if len(cands) > 0 && rng.Intn(2) == 0 {
				x = mutate(cands[rng.Intn(len(cands))])
			}
			want := nearestRef(x, cands)
			if got := Nearest(x, cands); got != want {
				t.Fatalf("Nearest(%q) = %q, reference %q (candidates %q)", x, got, want, cands)
			}
			if got := ix.Nearest(x); got != want {
				t.Fatalf("Index.Nearest(%q) = %q, reference %q (candidates %q)", x, got, want, cands)
			}
		}
	}
}
