package jsonx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
)

var scanSeeds = []string{
	`{}`, `[]`, `{"a":[1,2,{"b":null}]}`, `"\u00e9\ud83d\ude00"`, `1e400`, `{"a":1,"a":2}`, "\"\xff\"", `[1,]`,
	``, ` `, `-`, `-0`, `01`, `1.`, `1.e5`, `1e`, `1e+`, `-1.5E-3`, `tru`, `nul`, `falsey`, `"\x"`, `"\u12"`,
	`"\u12G4"`, "\"a\tb\"", `{"a" 1}`, `{"a":}`, `{,}`, `[,1]`, `{"a":1,}`, ` [1 , 2 ] `, `{"a~/b":{"c":[0,{"d":1}]}}`,
	`{"\u0061":1,"k\/":2,"é":3}`, "{\"\xff\":1}", `[1] x`, `"abc`, `"abc\`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValidMatchesStd(t *testing.T) {
	t.Parallel()
	for _, s := range scanSeeds {
		if got, want := valid([]byte(s)), json.Valid([]byte(s)); got != want {
			n := min(len(s), 40)
			t.Errorf("valid(%q) = %v, json.Valid %v", s[:n], got, want)
		}
	}
}

// allPointers lists the pointer of every value in v, and one missing child
// of every container.
func allPointers(v any, path string, out []string) []string {
	out = append(out, path)
	switch v := v.(type) {
	case Object:
		for _, m := range v {
			out = allPointers(m.Value, path+Pointer(m.Key), out)
		}
		out = append(out, path+"/zz~1missing/x")
	case []any:
		for i, e := range v {
			out = allPointers(e, path+"/"+strconv.Itoa(i), out)
		}
		out = append(out, path+"/"+strconv.Itoa(len(v)))
	}
	return out
}

func checkLocateAll(t *testing.T, name string, data []byte, ptrs []string) {
	t.Helper()
	got, want := LocateAll(data, ptrs), locateAllStd(data, ptrs)
	if !reflect.DeepEqual(got, want) {
		for _, p := range ptrs {
			if got[p] != want[p] {
				t.Errorf("%s: %q: LocateAll %v, reference %v", name, p, got[p], want[p])
				return
			}
		}
		t.Errorf("%s: LocateAll and the reference differ", name)
	}
}

func TestLocateAll_CorpusMatchesStd(t *testing.T) {
	t.Parallel()
	dir := testkit.CorpusDir(t)
	for _, f := range testkit.CorpusWorkflows(t) {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		v, err := DecodeStd(data)
		if err != nil {
			continue
		}
		checkLocateAll(t, f, data, allPointers(v, "", nil))
	}
}

// FuzzLocateAll compares the byte scanner with the encoding/json reference
// on arbitrary bytes, locating every value plus missing ones.
func FuzzLocateAll(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := valid(data), json.Valid(data); got != want {
			t.Fatalf("valid = %v, json.Valid %v", got, want)
		}
		ptrs := []string{"", "/0", "/a", "/a/0", "/0/a/1"}
		if v, err := DecodeStd(data); err == nil {
			ptrs = allPointers(v, "", ptrs)
		}
		checkLocateAll(t, "fuzz", data, ptrs)
	})
}
