package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// realDump returns the path of the real object_info dump of the corpus,
// skipping the test when the corpus is absent.
func realDump(tb testing.TB) string {
	tb.Helper()
	for _, p := range testkit.CorpusObjectInfo(tb) {
		if strings.HasSuffix(p, "object_info.json") {
			return p
		}
	}
	tb.Skip("no object_info dump in the corpus")
	return ""
}

// decodeStd decodes JSON with encoding/json (numbers kept as text), the
// reference for semantic comparison.
func decodeStd(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameModel reports whether two sets hold equal classes; Raw and Source
// included.
func sameModel(t *testing.T, a, b *schema.Set) {
	t.Helper()
	if !reflect.DeepEqual(a.Names(), b.Names()) {
		t.Fatalf("class names differ: %d vs %d", a.Len(), b.Len())
	}
	for _, name := range a.Names() {
		if !reflect.DeepEqual(a.Lookup(name), b.Lookup(name)) {
			t.Errorf("class %s differs after the round trip", name)
		}
	}
}

func TestRealDump_roundTrip(t *testing.T) {
	t.Parallel()
	path := realDump(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	orig := decodeStd(t, data)
	if s.Len() != len(orig) {
		t.Errorf("Len = %d, file has %d classes", s.Len(), len(orig))
	}
	out, err := s.Marshal("  ")
	if err != nil {
		t.Fatal(err)
	}
	again, err := schema.Parse(out, path)
	if err != nil {
		t.Fatal(err)
	}
	sameModel(t, s, again)

	// Per class, the emitted object equals the loaded one semantically.
	emitted := decodeStd(t, out)
	for name, want := range orig {
		if !reflect.DeepEqual(emitted[name], want) {
			t.Errorf("class %s: emitted object differs from the file", name)
		}
	}
	// Classes come sorted by name.
	keys := s.JSON().Keys()
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("classes not sorted: %q before %q", keys[i-1], keys[i])
		}
	}
	// The layout built from the model re-parses to the same inputs and
	// outputs for every real class (the dump is well formed).
	for _, n := range s.Nodes() {
		re, err := schema.ParseNode(n.Name, n.Layout())
		if err != nil {
			t.Fatal(err)
		}
		re.Raw, re.Source = n.Raw, n.Source
		if !reflect.DeepEqual(re, n) {
			t.Errorf("class %s: Layout does not round-trip the model", n.Name)
		}
	}
}

func TestRealDump_model(t *testing.T) {
	t.Parallel()
	s, err := schema.LoadFile(realDump(t))
	if err != nil {
		t.Fatal(err)
	}
	ks := s.Lookup("KSampler")
	if ks == nil {
		t.Skip("dump has no KSampler")
	}
	var names []string
	for _, in := range ks.Inputs {
		names = append(names, in.Name)
	}
	if got := strings.Join(names, ","); got != "model,seed,steps,cfg,sampler_name,scheduler,positive,negative,latent_image,denoise" {
		t.Errorf("KSampler inputs = %s", got)
	}
	if mx, _ := ks.Input("seed").Max(); mx != "18446744073709551615" {
		t.Errorf("seed max = %s", mx)
	}
	if sn := ks.Input("sampler_name"); !sn.IsCombo() || len(sn.Choices) < 10 {
		t.Errorf("sampler_name = %+v", sn)
	}
	if p := s.Lookup("PreviewImage"); p == nil || !p.OutputNode || len(p.InputsIn(schema.Hidden)) != 2 {
		t.Errorf("PreviewImage = %+v", p)
	}
	if b := s.Lookup("ImageBlend"); b != nil {
		if m := b.Input("blend_mode"); !m.IsV3Combo() || len(m.Choices) == 0 {
			t.Errorf("ImageBlend blend_mode = %+v", m)
		}
	}
	// Every combo has its choices, every input a type.
	for _, n := range s.Nodes() {
		for _, in := range n.Inputs {
			if in.Type == "" {
				t.Errorf("%s.%s has no type", n.Name, in.Name)
			}
			if in.IsCombo() && in.Choices == nil {
				t.Errorf("%s.%s: combo without choices", n.Name, in.Name)
			}
		}
	}
}

func TestLoadFiles_corpus(t *testing.T) {
	t.Parallel()
	paths := testkit.CorpusObjectInfo(t)
	s, err := schema.LoadFiles(paths...)
	if err != nil {
		t.Fatal(err)
	}
	derived := paths[len(paths)-1]
	if n := s.Lookup("LoadTensor"); n == nil || n.Source != derived {
		t.Errorf("LoadTensor from %v", n)
	}
	if n := s.Lookup("KSampler"); n != nil && filepath.Base(n.Source) == filepath.Base(derived) {
		t.Errorf("KSampler from the derived file")
	}
	// Unknown x_* fields of the derived file are kept.
	if n := s.Lookup("LoadTensor"); n != nil {
		if _, ok := n.Raw.Get("x_is_changed"); !ok {
			t.Error("x_is_changed not kept")
		}
	}
}

func BenchmarkParseObjectInfo(b *testing.B) {
	path := realDump(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schema.Parse(data, path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalObjectInfo(b *testing.B) {
	s, err := schema.LoadFile(realDump(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Marshal(""); err != nil {
			b.Fatal(err)
		}
	}
}
