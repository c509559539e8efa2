package sampling

import (
	"math"
	"testing"
)

// Closed forms: I_x(1, 1) = x, I_x(2, 1) = x², I_x(1, 3) = 1 − (1−x)³, and
// scipy.stats.beta.ppf(0.9, 0.6, 0.6) = 0.96041559 (printed by scipy 1.10).
func TestIncompleteBeta(t *testing.T) {
	for _, x := range []float64{0.01, 0.2, 0.5, 0.77, 0.99} {
		for _, c := range []struct{ a, b, want float64 }{
			{1, 1, x}, {2, 1, x * x}, {1, 3, 1 - math.Pow(1-x, 3)},
		} {
			if got := regIncBeta(x, c.a, c.b); math.Abs(got-c.want) > 1e-14 {
				t.Errorf("I_%g(%g, %g) = %.17g, want %.17g", x, c.a, c.b, got, c.want)
			}
		}
	}
	if q := betaQuantile(0.9, 0.6, 0.6); math.Abs(q-0.96041559) > 5e-9 {
		t.Errorf("quantile 0.9 of Beta(0.6, 0.6) = %v, scipy 0.96041559", q)
	}
	if q := betaQuantile(0.1, 0.6, 0.6); math.Abs(q-0.03958441) > 5e-9 {
		t.Errorf("quantile 0.1 of Beta(0.6, 0.6) = %v, scipy 0.03958441", q)
	}
}
