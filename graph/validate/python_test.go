package validate

import (
	"encoding/json"
	"math"
	"math/big"
	"testing"

	"comfyrt/internal/jsonx"
)

func num(s string) json.Number { return json.Number(s) }

func TestPyInt(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string // decimal, or "" when it fails
		err  string
	}{
		{"int", num("96"), "96", ""},
		{"string", "96", "96", ""},
		{"spaces", " 96 ", "96", ""},
		{"tabs and newlines", "\t96\n", "96", ""},
		{"plus", "+7", "7", ""},
		{"minus", "-7", "-7", ""},
		{"leading zeros", "007", "7", ""},
		{"underscores", "1_000", "1000", ""},
		{"float truncates", num("96.7"), "96", ""},
		{"negative float truncates toward zero", num("-96.7"), "-96", ""},
		{"exponent is a float", num("1e3"), "1000", ""},
		{"true", true, "1", ""},
		{"false", false, "0", ""},
		{"big", num("18446744073709551616"), "18446744073709551616", ""},
		{"big string", "340282366920938463463374607431768211456", "340282366920938463463374607431768211456", ""},
		{"huge float exact", num("1e20"), "100000000000000000000", ""},
		{"arabic-indic digits", "٩٦", "96", ""},
		{"decimal string fails", "96.0", "", "invalid literal for int() with base 10: '96.0'"},
		{"empty", "", "", "invalid literal for int() with base 10: ''"},
		{"inner space", "9 6", "", "invalid literal for int() with base 10: '9 6'"},
		{"double underscore", "1__0", "", "invalid literal for int() with base 10: '1__0'"},
		{"trailing underscore", "10_", "", "invalid literal for int() with base 10: '10_'"},
		{"hex", "0x10", "", "invalid literal for int() with base 10: '0x10'"},
		{"quote in repr", "it's", "", `invalid literal for int() with base 10: "it's"`},
		{"none", nil, "", "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"},
		{"dict", jsonx.Object{}, "", "int() argument must be a string, a bytes-like object or a real number, not 'dict'"},
		{"list", []any{}, "", "int() argument must be a string, a bytes-like object or a real number, not 'list'"},
		{"infinity", num("1e400"), "", "cannot convert float infinity to integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pyInt(tc.in)
			if err != tc.err {
				t.Fatalf("err = %q, want %q", err, tc.err)
			}
			if tc.err == "" && got.String() != tc.want {
				t.Errorf("int(%v) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestPyFloat(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string // repr
		err  string
	}{
		{"int", num("9"), "9.0", ""},
		{"string int", "9", "9.0", ""},
		{"string", " 0.5 ", "0.5", ""},
		{"exponent", "1e-5", "1e-05", ""},
		{"dot only after", "5.", "5.0", ""},
		{"dot only before", ".5", "0.5", ""},
		{"underscores", "1_000.000_1", "1000.0001", ""},
		{"inf", "inf", "inf", ""},
		{"Infinity", "-Infinity", "-inf", ""},
		{"nan", "NaN", "nan", ""},
		{"overflow is inf", "1e400", "inf", ""},
		{"json overflow is inf", num("1e400"), "inf", ""},
		{"true", true, "1.0", ""},
		{"big int", num("18446744073709551615"), "1.8446744073709552e+19", ""},
		{"abc", "abc", "", "could not convert string to float: 'abc'"},
		{"empty", "", "", "could not convert string to float: ''"},
		{"hex is not accepted", "0x1p-2", "", "could not convert string to float: '0x1p-2'"},
		{"lone dot", ".", "", "could not convert string to float: '.'"},
		{"lone exponent", "1e", "", "could not convert string to float: '1e'"},
		{"none", nil, "", "float() argument must be a string or a real number, not 'NoneType'"},
		{"dict", jsonx.Object{}, "", "float() argument must be a string or a real number, not 'dict'"},
		{"int too large", num("1" + zeros(400)), "", "int too large to convert to float"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pyFloat(tc.in)
			if err != tc.err {
				t.Fatalf("err = %q, want %q", err, tc.err)
			}
			if tc.err == "" && floatRepr(got) != tc.want {
				t.Errorf("float(%v) = %s, want %s", tc.in, floatRepr(got), tc.want)
			}
		})
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestPyStrAndBool(t *testing.T) {
	for _, tc := range []struct {
		in   any
		str  string
		bool bool
	}{
		{"text", "text", true},
		{"", "", false},
		{"false", "false", true}, // Python's trap; comfyrt warns and reads false
		{num("96"), "96", true},
		{num("0"), "0", false},
		{num("1.50"), "1.5", true},
		{num("0.0"), "0.0", false},
		{num("1E5"), "100000.0", true},
		{true, "True", true},
		{false, "False", false},
		{nil, "None", false},
		{jsonx.Object{{Key: "a", Value: num("1")}, {Key: "b", Value: "x"}}, "{'a': 1, 'b': 'x'}", true},
		{jsonx.Object{}, "{}", false},
		{[]any{num("1"), "two", nil, true}, "[1, 'two', None, True]", true},
	} {
		if got := pyStr(tc.in); got != tc.str {
			t.Errorf("str(%#v) = %q, want %q", tc.in, got, tc.str)
		}
		if got := pyBool(tc.in); got != tc.bool {
			t.Errorf("bool(%#v) = %v, want %v", tc.in, got, tc.bool)
		}
	}
}

func TestFloatRepr(t *testing.T) {
	for f, want := range map[float64]string{
		0:                     "0.0",
		math.Copysign(0, -1):  "-0.0",
		1:                     "1.0",
		9:                     "9.0",
		-2.5:                  "-2.5",
		0.1:                   "0.1",
		0.01:                  "0.01",
		1e-4:                  "0.0001",
		1e-5:                  "1e-05",
		1.5e-7:                "1.5e-07",
		123456789012345678:    "1.2345678901234568e+17",
		1e15:                  "1000000000000000.0",
		1e16:                  "1e+16",
		1.5e16:                "1.5e+16",
		9999999999999998:      "9999999999999998.0",
		1e100:                 "1e+100",
		math.MaxFloat64:       "1.7976931348623157e+308",
		5e-324:                "5e-324",
		math.Inf(1):           "inf",
		math.Inf(-1):          "-inf",
		0.30000000000000004:   "0.30000000000000004",
		18446744073709551615:  "1.8446744073709552e+19",
		100:                   "100.0",
		8.0:                   "8.0",
		1234.5678:             "1234.5678",
		0.000123:              "0.000123",
		-0.00001234:           "-1.234e-05",
		3.141592653589793:     "3.141592653589793",
		2.220446049250313e-16: "2.220446049250313e-16",
	} {
		if got := floatRepr(f); got != want {
			t.Errorf("repr(%v) = %q, want %q", f, got, want)
		}
	}
	if got := floatRepr(math.NaN()); got != "nan" {
		t.Errorf("repr(nan) = %q", got)
	}
}

func TestRepr(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"abc", "'abc'"},
		{"it's", `"it's"`},
		{`it's "x"`, `'it\'s "x"'`},
		{`back\slash`, `'back\\slash'`},
		{"tab\tnew\nline\r", `'tab\tnew\nline\r'`},
		{"\x00\x1f\x7f", `'\x00\x1f\x7f'`},
		{"héllo ✓ 日本", "'héllo ✓ 日本'"},
		{"nbsp\u00a0", `'nbsp\xa0'`},
		{"zwsp\u200b", `'zwsp\u200b'`},
		{[]any{"disabled", "center"}, "['disabled', 'center']"},
		{[]any{num("1"), num("2.0"), true, nil}, "[1, 2.0, True, None]"},
		{[]any{[]any{"a"}, jsonx.Object{{Key: "k", Value: []any{}}}}, "[['a'], {'k': []}]"},
		{jsonx.Object{{Key: "a", Value: num("1")}, {Key: "a", Value: num("2")}, {Key: "b", Value: num("3")}}, "{'a': 2, 'b': 3}"},
	} {
		if got := pyRepr(tc.in); got != tc.want {
			t.Errorf("repr(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPyCompareAndEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		c    int
		ok   bool
	}{
		{num("1"), num("1.0"), 0, true},
		{num("18446744073709551616"), num("18446744073709551615"), 1, true},
		// 2^64 as a float equals 2^64 exactly, and is bigger than 2^64-1.
		{num("1.8446744073709552e19"), num("18446744073709551615"), 1, true},
		{num("9007199254740993"), num("9007199254740992.0"), 1, true}, // exact, not via float64
		{true, num("1"), 0, true},
		{num("0.1"), num("0.1"), 0, true},
		{num("-1e400"), num("-1"), -1, true},
		{num("1e400"), num("1e400"), 0, true},
		{"1", num("1"), 0, false},
		{nil, num("0"), 0, false},
	} {
		c, ok := pyCompare(tc.a, tc.b)
		if ok != tc.ok || (ok && c != tc.c) {
			t.Errorf("compare(%v, %v) = %d, %v; want %d, %v", tc.a, tc.b, c, ok, tc.c, tc.ok)
		}
	}
	if _, ok := pyCompare(math.NaN(), num("1")); ok {
		t.Error("nan compares")
	}
	for _, tc := range []struct {
		a, b any
		eq   bool
	}{
		{num("1"), num("1.0"), true},
		{true, num("1"), true},
		{"1", num("1"), false},
		{"euler", "euler", true},
		{"Euler", "euler", false},
		{nil, nil, true},
		{[]any{num("1"), "a"}, []any{num("1.0"), "a"}, true},
		{jsonx.Object{{Key: "a", Value: num("1")}, {Key: "b", Value: nil}}, jsonx.Object{{Key: "b", Value: nil}, {Key: "a", Value: true}}, true},
		{jsonx.Object{{Key: "a", Value: num("1")}}, jsonx.Object{{Key: "a", Value: num("2")}}, false},
	} {
		if got := pyEqual(tc.a, tc.b); got != tc.eq {
			t.Errorf("%v == %v: %v, want %v", tc.a, tc.b, got, tc.eq)
		}
	}
}

func TestPyValue(t *testing.T) {
	if v, ok := pyValue(num("-0")).(*big.Int); !ok || v.Sign() != 0 {
		t.Errorf("-0 = %#v", pyValue(num("-0")))
	}
	if v, ok := pyValue(num("-0.0")).(float64); !ok || !math.Signbit(v) {
		t.Errorf("-0.0 = %#v", pyValue(num("-0.0")))
	}
	if v, ok := pyValue(num("1E2")).(float64); !ok || v != 100 {
		t.Errorf("1E2 = %#v", pyValue(num("1E2")))
	}
	if got := toJSON(9.0); got != num("9.0") {
		t.Errorf("toJSON(9.0) = %#v", got)
	}
	if got := toJSON(math.Inf(1)); got != "Infinity" {
		t.Errorf("toJSON(inf) = %#v", got)
	}
}

// TestPyCompare_FastPathAgreesWithBig checks the float64 fast path of
// pyCompare against exact big-number comparison.
func TestPyCompare_FastPathAgreesWithBig(t *testing.T) {
	vals := []any{json.Number("0"), json.Number("-1"), json.Number("9007199254740992"), json.Number("9007199254740993"),
		json.Number("18446744073709551615"), json.Number("1.5"), json.Number("-0.0"), json.Number("1e400"), json.Number("0.1"),
		true, false, 2.0, json.Number("3"), json.Number("2.9999999999999996")}
	for _, a := range vals {
		for _, b := range vals {
			got, gok := pyCompare(a, b)
			ar, ai, an, aok := pyNumber(a)
			br, bi, bn, bok := pyNumber(b)
			if !aok || !bok || an || bn {
				if gok {
					t.Errorf("pyCompare(%v, %v) ok, want not ok", a, b)
				}
				continue
			}
			want := 0
			switch {
			case ai != 0 || bi != 0:
				want = cmpInt(ai, bi)
			default:
				want = ar.Cmp(br)
			}
			if !gok || got != want {
				t.Errorf("pyCompare(%v, %v) = %d %v, want %d", a, b, got, gok, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
