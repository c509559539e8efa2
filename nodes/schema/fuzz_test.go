package schema_test

import (
	"reflect"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// FuzzParse checks that Parse never panics, that every accessor works on
// whatever it accepted, and that parse → emit → parse gives an equal model.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"_comment":"x","A":{}}`,
		`{"N":{"input":{"required":{"a":["INT",{"default":1,"min":0,"max":18446744073709551615,"step":1}],"b":[["x","y"],{"default":"x"}]},"optional":{"m":["MASK"]},"hidden":{"p":"PROMPT","u":["UNIQUE_ID"]}},"input_order":{"required":["b","a"],"optional":["m"],"hidden":["u","p"]},"output":["IMAGE"],"output_is_list":[false],"output_name":["IMAGE"],"name":"N","display_name":null,"description":"","python_module":"nodes","category":"image","output_node":false}}`,
		`{"V":{"input":{"required":{"c":["COMBO",{"multiselect":false,"options":["a","b"]}],"e":[],"u":["FLOAT,INT"],"w":["*"]}},"output":[["a","b"]],"output_tooltips":[null],"deprecated":false,"experimental":true,"api_node":false,"new":{"k":[1,2.5e300]}}}`,
		`{"D":{"input":{"required":{"a":["INT"],"a":["FLOAT"]}},"input_order":{"required":["a","a",3]}},"D":{"category":"second"}}`,
		`{"O":{"input":5,"input_order":[],"output":"IMAGE","output_is_list":[1,null],"output_name":{}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := schema.Parse(data, "fuzz")
		if err != nil {
			return
		}
		for _, n := range s.Nodes() {
			touch(n)
			if _, err := jsonx.Marshal(n.Layout(), ""); err != nil {
				t.Fatalf("Layout of %q: %v", n.Name, err)
			}
			if _, err := schema.ParseNode(n.Name, n.Layout()); err != nil {
				t.Fatalf("ParseNode(Layout) of %q: %v", n.Name, err)
			}
		}
		out, err := s.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		again, err := schema.Parse(out, "fuzz")
		if err != nil {
			t.Fatalf("re-parse of emitted JSON: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(s.Names(), again.Names()) {
			t.Fatalf("names %q != %q", s.Names(), again.Names())
		}
		for _, name := range s.Names() {
			if !reflect.DeepEqual(s.Lookup(name), again.Lookup(name)) {
				t.Fatalf("class %q differs after emit → parse", name)
			}
		}
	})
}

// touch calls every accessor of n and its inputs.
func touch(n *schema.Node) {
	_ = n.Title()
	for i := -1; i <= len(n.Output)+1; i++ {
		_ = n.OutputNameAt(i)
		_ = n.OutputIsListAt(i)
	}
	for _, sec := range schema.Sections {
		_ = n.InputsIn(sec)
	}
	for _, in := range n.Inputs {
		_ = n.Input(in.Name)
		_, _ = in.Default()
		_, _ = in.Min()
		_, _ = in.Max()
		_, _ = in.Step()
		_, _ = in.Round()
		_, _ = in.Float("default")
		_ = in.Types()
		_ = in.IsCombo() || in.IsV3Combo() || in.IsAny() || in.IsWidgetType() || in.ForceInput() ||
			in.Lazy() || in.Multiline() || in.MultiSelect() || in.ControlAfterGenerate() || in.ImageUpload()
		_ = in.Tooltip() + in.Display() + in.Placeholder() + in.WidgetType() + in.ImageFolder()
		_ = in.SpecJSON()
		if in.IsCombo() {
			if _, err := n.WithChoices(in.Name, []any{"z"}); err != nil {
				panic(err)
			}
		}
	}
}
