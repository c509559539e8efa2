package schema_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

func mustParse(t *testing.T, doc string) *schema.Set {
	t.Helper()
	s, err := schema.Parse([]byte(doc), "test.json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func inputNames(n *schema.Node) string {
	var parts []string
	for _, in := range n.Inputs {
		parts = append(parts, in.Section.String()+":"+in.Name+":"+in.Type)
	}
	return strings.Join(parts, " ")
}

func TestParse_inputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "missing input_order keeps declaration order",
			doc:  `{"N":{"input":{"required":{"b":["INT"],"a":["FLOAT"]},"optional":{"z":["MASK"]}}}}`,
			want: "required:b:INT required:a:FLOAT optional:z:MASK",
		},
		{
			name: "input_order wins over declaration order",
			doc:  `{"N":{"input":{"required":{"b":["INT"],"a":["FLOAT"]}},"input_order":{"required":["a","b"]}}}`,
			want: "required:a:FLOAT required:b:INT",
		},
		{
			name: "partial input_order with unknown and repeated names",
			doc:  `{"N":{"input":{"required":{"b":["INT"],"a":["FLOAT"],"c":["STRING"]}},"input_order":{"required":["c","ghost","c",7]}}}`,
			want: "required:c:STRING required:b:INT required:a:FLOAT",
		},
		{
			name: "sections come required, optional, hidden whatever the file order",
			doc:  `{"N":{"input":{"hidden":{"p":"PROMPT"},"optional":{"o":["IMAGE"]},"required":{"r":["IMAGE"]}}}}`,
			want: "required:r:IMAGE optional:o:IMAGE hidden:p:PROMPT",
		},
		{
			name: "hidden input_order is honoured",
			doc:  `{"N":{"input":{"hidden":{"a":"PROMPT","b":["UNIQUE_ID"]}},"input_order":{"hidden":["b","a"]}}}`,
			want: "hidden:b:UNIQUE_ID hidden:a:PROMPT",
		},
		{
			name: "empty spec is any, odd heads are any",
			doc:  `{"N":{"input":{"required":{"e":[],"n":[null],"o":[{}],"k":[3]}}}}`,
			want: "required:e:* required:n:* required:o:* required:k:3",
		},
		{
			name: "comma union and wildcard",
			doc:  `{"N":{"input":{"required":{"u":["FLOAT,INT"],"w":["*"]}}}}`,
			want: "required:u:FLOAT,INT required:w:*",
		},
		{
			name: "combo lists and V3 COMBO",
			doc:  `{"N":{"input":{"required":{"c":[["x","y"]],"v":["COMBO",{"options":["p","q"],"multiselect":false}]}}}}`,
			want: "required:c:COMBO required:v:COMBO",
		},
		{
			name: "repeated key: last value at first position",
			doc:  `{"N":{"input":{"required":{"a":["INT"],"b":["MASK"],"a":["FLOAT"]}}}}`,
			want: "required:a:FLOAT required:b:MASK",
		},
		{
			name: "odd shapes are tolerated",
			doc:  `{"N":{"input":5,"input_order":"x","output":"IMAGE","output_is_list":[1],"output_name":{}}}`,
			want: "",
		},
		{
			name: "unknown section is ignored",
			doc:  `{"N":{"input":{"required":{"a":["INT"]},"extra":{"q":["INT"]}}}}`,
			want: "required:a:INT",
		},
		{
			name: "section that is not an object",
			doc:  `{"N":{"input":{"required":["INT"],"optional":null}}}`,
			want: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := mustParse(t, tc.doc).Lookup("N")
			if n == nil {
				t.Fatal("class N missing")
			}
			if got := inputNames(n); got != tc.want {
				t.Errorf("inputs = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParse_bareTypeString(t *testing.T) {
	t.Parallel()
	n := mustParse(t, `{"N":{"input":{"hidden":{"prompt":"PROMPT","id":["UNIQUE_ID"]}}}}`).Lookup("N")
	p := n.Input("prompt")
	if p.Section != schema.Hidden || p.Type != "PROMPT" {
		t.Fatalf("prompt = %+v", p)
	}
	if !reflect.DeepEqual(p.Spec, []any{"PROMPT"}) || p.RawSpec != "PROMPT" {
		t.Errorf("Spec = %#v, RawSpec = %#v", p.Spec, p.RawSpec)
	}
	// Emitting keeps the bare string.
	out, err := jsonx.Marshal(n.Layout(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"prompt":"PROMPT"`) {
		t.Errorf("layout lost the bare spec: %s", out)
	}
	if got := len(n.InputsIn(schema.Hidden)); got != 2 {
		t.Errorf("InputsIn(Hidden) = %d inputs", got)
	}
}

func TestParse_combo(t *testing.T) {
	t.Parallel()
	n := mustParse(t, `{"N":{"input":{"required":{
		"classic":[["a","b",3],{"default":"b","tooltip":"pick"}],
		"v3":["COMBO",{"multiselect":false,"options":["normal","multiply"],"default":"normal"}],
		"v3empty":["COMBO"],
		"upload":[["example.png"],{"image_upload":true}]}}}}`).Lookup("N")
	c := n.Input("classic")
	if !c.IsCombo() || c.IsV3Combo() || !reflect.DeepEqual(c.Choices, []any{"a", "b", json.Number("3")}) {
		t.Errorf("classic = %+v", c)
	}
	if d, _ := c.Default(); d != "b" || c.Tooltip() != "pick" {
		t.Errorf("classic default %v tooltip %q", d, c.Tooltip())
	}
	v := n.Input("v3")
	if !v.IsCombo() || !v.IsV3Combo() || !reflect.DeepEqual(v.Choices, []any{"normal", "multiply"}) || v.MultiSelect() {
		t.Errorf("v3 = %+v", v)
	}
	e := n.Input("v3empty")
	if !e.IsCombo() || e.Choices == nil || len(e.Choices) != 0 {
		t.Errorf("v3empty = %+v", e)
	}
	if u := n.Input("upload"); !u.ImageUpload() || !u.IsWidgetType() {
		t.Errorf("upload = %+v", u)
	}
}

func TestParse_bigIntsStayExact(t *testing.T) {
	t.Parallel()
	doc := `{"KSampler":{"input":{"required":{"seed":["INT",{"default":0,"min":0,"max":18446744073709551615,"control_after_generate":true}],
		"cfg":["FLOAT",{"default":8.0,"step":0.1,"round":0.01}],"neg":["INT",{"min":-9223372036854775807,"round":false}]}}}}`
	s := mustParse(t, doc)
	seed := s.Lookup("KSampler").Input("seed")
	if mx, ok := seed.Max(); !ok || mx != "18446744073709551615" {
		t.Errorf("max = %q %v", mx, ok)
	}
	if !seed.ControlAfterGenerate() {
		t.Error("control_after_generate lost")
	}
	cfg := s.Lookup("KSampler").Input("cfg")
	if d, _ := cfg.Default(); d != json.Number("8.0") {
		t.Errorf("default = %#v, want json.Number 8.0 (text kept)", d)
	}
	if r, ok := cfg.Round(); !ok || r != "0.01" {
		t.Errorf("round = %q", r)
	}
	if f, ok := cfg.Float("step"); !ok || f != 0.1 {
		t.Errorf("Float(step) = %v", f)
	}
	neg := s.Lookup("KSampler").Input("neg")
	if _, ok := neg.Round(); ok {
		t.Error("round false read as a number")
	}
	if mn, _ := neg.Min(); mn != "-9223372036854775807" {
		t.Errorf("min = %q", mn)
	}
	out, err := s.Marshal("")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"18446744073709551615", "8.0", "-9223372036854775807"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("emitted JSON lost %s: %s", want, out)
		}
	}
}

func TestParse_optionAccessors(t *testing.T) {
	t.Parallel()
	n := mustParse(t, `{"N":{"input":{"required":{"x":["STRING",{
		"multiline":true,"lazy":true,"forceInput":true,"defaultInput":true,"socketless":true,"rawLink":true,
		"dynamicPrompts":true,"display":"slider","placeholder":"type","widgetType":"W","image_folder":"output",
		"remote":{"route":"/r"},"brand_new_key":[1,2],"multi_select":{"placeholder":"p"}}]}}}}`).Lookup("N")
	in := n.Input("x")
	checks := map[string]bool{
		"Multiline": in.Multiline(), "Lazy": in.Lazy(), "ForceInput": in.ForceInput(),
		"DefaultInput": in.DefaultInput(), "Socketless": in.Socketless(), "RawLink": in.RawLink(),
		"DynamicPrompts": in.DynamicPrompts(), "MultiSelect": in.MultiSelect(),
	}
	for name, v := range checks {
		if !v {
			t.Errorf("%s = false", name)
		}
	}
	if in.Display() != "slider" || in.Placeholder() != "type" || in.WidgetType() != "W" || in.ImageFolder() != "output" {
		t.Errorf("string options: %q %q %q %q", in.Display(), in.Placeholder(), in.WidgetType(), in.ImageFolder())
	}
	if v, ok := in.Option("brand_new_key"); !ok || len(v.([]any)) != 2 {
		t.Errorf("unknown option = %v %v", v, ok)
	}
	if v, ok := in.Option("remote"); !ok {
		t.Errorf("remote = %v", v)
	}
	if in.ImageUpload() || in.ControlAfterGenerate() {
		t.Error("absent flags read as true")
	}
	if in.Flag("display") {
		t.Error("Flag of a string option is true")
	}
}

func TestParse_nodeFields(t *testing.T) {
	t.Parallel()
	doc := `{
	  "_comment": "not a class",
	  "N": {"input":{"required":{}},"output":["IMAGE",["a","b"],"MASK"],"output_is_list":[false,true],
	        "output_name":["img","choice",null],"output_tooltips":[null,"t"],"name":"Other","display_name":null,
	        "description":"d","python_module":"m","category":"c","output_node":true,
	        "deprecated":true,"experimental":true,"api_node":true,"future_field":{"x":1}}}`
	s := mustParse(t, doc)
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (_comment skipped)", s.Len())
	}
	n := s.Lookup("N")
	if n.Name != "N" || n.DisplayName != "" || n.Title() != "N" || n.Description != "d" || n.PythonModule != "m" || n.Category != "c" {
		t.Errorf("node = %+v", n)
	}
	if !n.OutputNode || !n.Deprecated || !n.Experimental || !n.APINode {
		t.Errorf("flags = %v %v %v %v", n.OutputNode, n.Deprecated, n.Experimental, n.APINode)
	}
	if !reflect.DeepEqual(n.Output, []string{"IMAGE", "COMBO", "MASK"}) {
		t.Errorf("Output = %v", n.Output)
	}
	if n.OutputNameAt(0) != "img" || n.OutputNameAt(2) != "MASK" || n.OutputNameAt(9) != "" {
		t.Errorf("OutputNameAt = %q %q", n.OutputNameAt(0), n.OutputNameAt(2))
	}
	if !n.OutputIsListAt(1) || n.OutputIsListAt(2) {
		t.Error("OutputIsListAt")
	}
	if !reflect.DeepEqual(n.OutputTooltips, []string{"", "t"}) {
		t.Errorf("OutputTooltips = %q", n.OutputTooltips)
	}
	if v, ok := n.Raw.Get("future_field"); !ok || v == nil {
		t.Error("unknown field not kept in Raw")
	}
	out, err := s.Marshal("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"future_field":{"x":1}`) {
		t.Errorf("unknown field not emitted: %s", out)
	}
}

func TestParse_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		notObj    bool
	}{
		{"invalid JSON", `{"N":`, false},
		{"array", `[1,2]`, true},
		{"string", `"x"`, true},
		{"null", `null`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schema.Parse([]byte(tc.doc), "x")
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, schema.ErrNotObject); got != tc.notObj {
				t.Errorf("errors.Is(ErrNotObject) = %v (%v)", got, err)
			}
		})
	}
	if s := mustParse(t, `{}`); s.Len() != 0 {
		t.Error("empty document has classes")
	}
}

func TestTypesMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		received, want string
		ok             bool
	}{
		{"IMAGE", "IMAGE", true},
		{"IMAGE", "MASK", false},
		{"*", "MASK", true},
		{"IMAGE", "*", true},
		{"INT", "FLOAT,INT", true},
		{"FLOAT, INT", "INT", true},
		{"LATENT", "FLOAT,INT", false},
		{"COMBO", "COMBO", true},
	}
	for _, tc := range tests {
		if got := schema.TypesMatch(tc.received, tc.want); got != tc.ok {
			t.Errorf("TypesMatch(%q, %q) = %v", tc.received, tc.want, got)
		}
	}
	in := &schema.Input{Type: "FLOAT, INT"}
	if !reflect.DeepEqual(in.Types(), []string{"FLOAT", "INT"}) {
		t.Errorf("Types = %q", in.Types())
	}
}

func TestSection(t *testing.T) {
	t.Parallel()
	for _, sec := range schema.Sections {
		got, ok := schema.ParseSection(sec.String())
		if !ok || got != sec {
			t.Errorf("ParseSection(%q) = %v %v", sec, got, ok)
		}
	}
	if _, ok := schema.ParseSection("other"); ok {
		t.Error("ParseSection(other) ok")
	}
}

func TestLoadFiles_laterWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a.json")
	b := filepath.Join(dir, "b.json")
	if err := os.WriteFile(a, []byte(`{"X":{"category":"a"},"Y":{"category":"a"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte(`{"Y":{"category":"b"},"Z":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := schema.LoadFiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Names(), ","); got != "X,Y,Z" {
		t.Errorf("Names = %s", got)
	}
	if n := s.Lookup("X"); n.Source != a || n.Category != "a" {
		t.Errorf("X = %s %s", n.Source, n.Category)
	}
	if n := s.Lookup("Y"); n.Source != b || n.Category != "b" {
		t.Errorf("Y = %s %s", n.Source, n.Category)
	}
	if _, err := schema.LoadFiles(a, filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte(`[`), 0o644)
	if _, err := schema.LoadFiles(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file error = %v", err)
	}
	if s, err := schema.LoadFiles(); err != nil || s.Len() != 0 {
		t.Errorf("LoadFiles() = %v, %v", s.Len(), err)
	}
}

func TestSet_mergeCloneZero(t *testing.T) {
	t.Parallel()
	var zero schema.Set
	zero.Add(&schema.Node{Name: "A"})
	if zero.Lookup("A") == nil {
		t.Fatal("zero Set Add")
	}
	var nilSet *schema.Set
	if nilSet.Lookup("A") != nil || nilSet.Len() != 0 || nilSet.Names() != nil {
		t.Error("nil Set")
	}
	b := schema.NewSet()
	b.Add(&schema.Node{Name: "A", Category: "b"})
	b.Add(&schema.Node{Name: "B"})
	m := schema.Merged(&zero, nil, b)
	if m.Len() != 2 || m.Lookup("A").Category != "b" {
		t.Errorf("Merged = %v", m.Names())
	}
	c := m.Clone()
	c.Add(&schema.Node{Name: "C"})
	if m.Lookup("C") != nil || c.Len() != 3 {
		t.Error("Clone shares its map")
	}
	if got := len(m.Nodes()); got != 2 {
		t.Errorf("Nodes = %d", got)
	}
}

func TestNode_layoutCodeBuilt(t *testing.T) {
	t.Parallel()
	n := &schema.Node{
		Name: "Thing", DisplayName: "A Thing", Category: "test", PythonModule: "comfyrt",
		Inputs: []*schema.Input{
			schema.NewInput("image", schema.Required, "IMAGE", nil),
			schema.NewCombo("mode", schema.Required, []any{"cuda", "cpu"}, jsonx.Object{{Key: "default", Value: "cuda"}}),
			schema.NewInput("mask", schema.Optional, "MASK", nil),
			{Name: "v3", Section: schema.Optional, Type: schema.TypeCombo, Choices: []any{"p"},
				Options: jsonx.Object{{Key: "options", Value: []any{"p"}}}},
			{Name: "bare", Section: schema.Optional, Type: "INT"},
			schema.NewInput("prompt", schema.Hidden, "PROMPT", nil),
		},
		Output:       []string{"IMAGE"},
		OutputIsList: []bool{false},
		OutputNode:   true,
	}
	out, err := jsonx.Marshal(n.Layout(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"input":{"required":{"image":["IMAGE"],"mode":[["cuda","cpu"],{"default":"cuda"}]},` +
		`"optional":{"mask":["MASK"],"v3":["COMBO",{"options":["p"]}],"bare":["INT"]},"hidden":{"prompt":["PROMPT"]}},` +
		`"input_order":{"required":["image","mode"],"optional":["mask","v3","bare"],"hidden":["prompt"]},` +
		`"output":["IMAGE"],"output_is_list":[false],"output_name":["IMAGE"],"name":"Thing","display_name":"A Thing",` +
		`"description":"","python_module":"comfyrt","category":"test","output_node":true}`
	if string(out) != want {
		t.Errorf("Layout =\n%s\nwant\n%s", out, want)
	}
	if got, _ := jsonx.Marshal(n.JSON(), ""); string(got) != want {
		t.Error("JSON of a code-built node differs from Layout")
	}
	empty, _ := jsonx.Marshal((&schema.Node{Name: "E"}).Layout(), "")
	if !strings.HasPrefix(string(empty), `{"input":{"required":{}},"input_order":{"required":[]},"output":[]`) {
		t.Errorf("empty layout = %s", empty)
	}
}

func TestNode_withChoices(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `{"N":{"input":{"required":{"image":[["example.png"],{"image_upload":true}],
		"v3":["COMBO",{"options":[],"default":"a"}],"n":["INT"]}},"future":1}}`)
	n := s.Lookup("N")
	c, err := n.WithChoices("image", []any{"a.png", "b.png"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Input("image"); !reflect.DeepEqual(got.Choices, []any{"a.png", "b.png"}) || !got.ImageUpload() {
		t.Errorf("image = %+v", got)
	}
	if !reflect.DeepEqual(n.Input("image").Choices, []any{"example.png"}) {
		t.Error("WithChoices modified the original")
	}
	c, err = c.WithChoices("v3", []any{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jsonx.Marshal(c.JSON(), "")
	want := `{"input":{"required":{"image":[["a.png","b.png"],{"image_upload":true}],"v3":["COMBO",{"options":["a","b"],"default":"a"}],"n":["INT"]}},"future":1}`
	if string(out) != want {
		t.Errorf("JSON = %s\nwant %s", out, want)
	}
	orig, _ := jsonx.Marshal(n.JSON(), "")
	if strings.Contains(string(orig), "a.png") {
		t.Errorf("original Raw modified: %s", orig)
	}
	// Re-parsing the emitted object gives the changed model.
	re, err := schema.ParseNode("N", c.JSON())
	if err != nil || !reflect.DeepEqual(re.Input("v3").Choices, []any{"a", "b"}) {
		t.Errorf("re-parse = %+v, %v", re.Input("v3"), err)
	}
	if _, err := n.WithChoices("n", nil); err == nil {
		t.Error("WithChoices on an INT: no error")
	}
	if _, err := n.WithChoices("ghost", nil); err == nil {
		t.Error("WithChoices on a missing input: no error")
	}
}
