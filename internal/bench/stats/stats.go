// Package stats holds the small statistics the benchmark suites share.
// It is a leaf: it imports only the standard library.
package stats

import "slices"

// Median is the median of v (the mean of the two middle values for an
// even count; 0 for none). v is not modified.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
