package jsonx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"comfyrt/internal/testkit"
)

func TestDecode_OrderAndNumbers(t *testing.T) {
	t.Parallel()
	v, err := Decode([]byte(`{"b": 1, "a": [18446744073709551615, 1.50, -0, "x"], "c": {"z": null, "y": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(Object)
	if got := o.Keys(); !reflect.DeepEqual(got, []string{"b", "a", "c"}) {
		t.Fatalf("key order %v", got)
	}
	a, _ := o.Get("a")
	arr := a.([]any)
	if arr[0] != json.Number("18446744073709551615") || arr[1] != json.Number("1.50") || arr[2] != json.Number("-0") {
		t.Fatalf("numbers not kept as written: %#v", arr)
	}
	c, _ := o.Get("c")
	if got := c.(Object).Keys(); !reflect.DeepEqual(got, []string{"z", "y"}) {
		t.Fatalf("nested key order %v", got)
	}
}

func TestDecode_DuplicateKeysLastWins(t *testing.T) {
	t.Parallel()
	v, err := Decode([]byte(`{"a": 1, "a": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.(Object).Get("a"); got != json.Number("2") {
		t.Fatalf("Get(a) = %v, want 2", got)
	}
}

func TestDecode_Errors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in  string
		line, col int
	}{
		{"trailing comma", "{\n  \"a\": 1,\n}", 3, 1},
		{"truncated", "{\"a\": [1, 2", 1, 12},
		{"garbage after", "{} x", 1, 4},
		{"empty", "", 1, 1},
		{"bad literal", "[tru]", 1, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
			}
			if se.Line != tc.line || (tc.col != 0 && se.Col != tc.col) {
				t.Errorf("position %d:%d, want %d:%d (%s)", se.Line, se.Col, tc.line, tc.col, se.Msg)
			}
		})
	}
}

func TestMarshal_RoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"b":1,"a":[18446744073709551615,1.50,"x\n\"y\"\u0001<>&é",null,true,{}],"c":{"z":null,"y":[]}}`
	v, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(v, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":1,"a":[18446744073709551615,1.50,"x\n\"y\"\u0001<>&é",null,true,{}],"c":{"z":null,"y":[]}}`
	if string(out) != want {
		t.Fatalf("Marshal:\n got %s\nwant %s", out, want)
	}
	ind, _ := Marshal(v, "  ")
	v2, err := Decode(ind)
	if err != nil || !reflect.DeepEqual(v, v2) {
		t.Fatalf("indented round trip differs: %v", err)
	}
}

func TestLocate(t *testing.T) {
	t.Parallel()
	data := []byte("{\n  \"7\": {\n    \"inputs\": {\"seed\": -1, \"a/b\": 2},\n    \"list\": [10, {\"k\": 3}]\n  }\n}")
	cases := []struct {
		ptr       string
		line, col int
	}{
		{"", 1, 1},
		{"/7", 2, 8},
		{"/7/inputs/seed", 3, 24},
		{"/7/inputs/a~1b", 3, 35},
		{"/7/list/1/k", 4, 24},
		{"/7/missing", 2, 8},
	}
	for _, tc := range cases {
		line, col, ok := Locate(data, tc.ptr)
		if !ok || line != tc.line || col != tc.col {
			t.Errorf("Locate(%q) = %d:%d %v, want %d:%d", tc.ptr, line, col, ok, tc.line, tc.col)
		}
	}
}

// TestDecode_CorpusMatchesStd decodes every corpus file with both decoders.
func TestDecode_CorpusMatchesStd(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	files := testkit.CorpusWorkflows(t)
	files = append(files, "_schemas/offflinerpsy__orchestrator-v3__object_info.json")
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		a, errA := Decode(data)
		b, errB := DecodeStd(data)
		if (errA == nil) != (errB == nil) {
			t.Errorf("%s: sonic err %v, std err %v", f, errA, errB)
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: sonic and encoding/json trees differ", f)
		}
	}
}

// FuzzDecode is the differential fuzz test: the sonic path and the
// encoding/json path must agree on validity and on the tree, and encoding a
// tree must decode back to the same tree.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2,{"b":null}]}`, `"\u00e9\ud83d\ude00"`, `1e400`, `{"a":1,"a":2}`, "\"\xff\"", `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, errA := Decode(data)
		b, errB := DecodeStd(data)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("validity differs: sonic %v, std %v", errA, errB)
		}
		if errA != nil {
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("trees differ:\n%#v\n%#v", a, b)
		}
		out, err := Marshal(a, "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if !reflect.DeepEqual(a, c) {
			t.Fatalf("round trip differs: %s", out)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	dir := testkit.CorpusDir(b)
	data, err := os.ReadFile(filepath.Join(dir, "_schemas/offflinerpsy__orchestrator-v3__object_info.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLocateAll_MatchesLocate(t *testing.T) {
	t.Parallel()
	data := []byte("{\n  \"7\": {\n    \"inputs\": {\"seed\": -1, \"a/b\": 2},\n    \"list\": [10, {\"k\": 3}]\n  },\n  \"8\": [1, [2, 3]]\n}")
	ptrs := []string{"", "/7", "/7/inputs/seed", "/7/inputs/a~1b", "/7/list/1/k", "/7/missing", "/8/1/1", "/9/x", "/7/list/5"}
	got := LocateAll(data, ptrs)
	for _, p := range ptrs {
		line, col, ok := Locate(data, p)
		if !ok || got[p] != (Pos{line, col}) {
			t.Errorf("%q: LocateAll %v, Locate %d:%d %v", p, got[p], line, col, ok)
		}
	}
	// Invalid JSON: best effort, never a panic.
	_ = LocateAll([]byte("{\"7\": {x"), ptrs)
}
