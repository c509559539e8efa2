package validate

import (
	"fmt"
	"strings"
	"testing"

	"comfyrt/graph"
	"comfyrt/graph/diag"
	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

// testSchema is a small object_info written for these tests (shapes as in
// ComfyUI's dump, tooltips left out).
const testSchema = `{
  "Source": {"input": {"required": {}}, "output": ["IMAGE", "MASK", "*", "FLOAT,INT", ["a", "b"]], "output_node": false},
  "Num": {"input": {"required": {"value": ["INT", {"min": 0, "max": 10}]}}, "output": ["INT"], "output_node": false},
  "Flt": {"input": {"required": {"value": ["FLOAT", {"min": 0.5, "max": 8.0}]}}, "output": ["FLOAT"], "output_node": false},
  "Str": {"input": {"required": {"value": ["STRING", {}]}}, "output": ["STRING"], "output_node": false},
  "Bool": {"input": {"required": {"value": ["BOOLEAN", {"default": true}]}}, "output": ["BOOLEAN"], "output_node": false},
  "Pick": {"input": {"required": {"choice": [["a", "b", 1]], "v3": ["COMBO", {"options": ["x", "y"]}]},
                     "optional": {"multi": ["COMBO", {"multiselect": true, "options": ["p", "q"]}], "remote": ["COMBO", {"remote": {"route": "/x"}}]}},
           "output": ["STRING"], "output_node": false},
  "Img": {"input": {"required": {"image": ["IMAGE"]}, "optional": {"mask": ["MASK"], "num": ["FLOAT,INT"]}, "hidden": {"unique_id": "UNIQUE_ID"}},
          "output": ["IMAGE"], "output_node": false},
  "Any": {"input": {"required": {"value": ["*"]}}, "output": ["*"], "output_node": false},
  "Out": {"input": {"required": {"value": ["*", {}]}}, "output": [], "output_node": true},
  "OutImg": {"input": {"required": {"images": ["IMAGE"]}, "hidden": {"prompt": "PROMPT"}}, "output": [], "output_node": true}
}`

func testSet(t testing.TB) *schema.Set {
	t.Helper()
	s, err := schema.Parse([]byte(testSchema), "test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parse(t testing.TB, src string) *graph.Prompt {
	t.Helper()
	v, err := jsonx.Decode([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, ds := graph.ParseAPI(v)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return p
}

// codes renders the diagnostics as "node:input:code" (severity W for
// warnings), sorted as Diags are.
func codes(l diag.List) string {
	var out []string
	for _, d := range l {
		s := string(d.Code)
		if d.NodeID != "" {
			s = d.NodeID + ":" + d.Input + ":" + s
		}
		if d.Severity == diag.Warning {
			s += "(W)"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestValidateTable(t *testing.T) {
	s := testSet(t)
	for _, tc := range []struct {
		name  string
		src   string
		valid bool
		want  string
	}{
		{"empty", `{}`, false, "prompt_no_outputs"},
		{"valid", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0]}}}`, true, ""},
		{"integer node id in link", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": [1, 0]}}}`, true, ""},
		{"star output feeds IMAGE", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 2]}}}`, true, ""},
		{"star input takes MASK", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "Out", "inputs": {"value": ["1", 1]}}}`, true, ""},
		{"union output into union input", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "Img", "inputs": {"image": ["1", 0], "num": ["1", 3]}}, "3": {"class_type": "OutImg", "inputs": {"images": ["2", 0]}}}`, true, ""},
		{"INT output into union input", `{"1": {"class_type": "Source", "inputs": {}}, "n": {"class_type": "Num", "inputs": {"value": 3}}, "2": {"class_type": "Img", "inputs": {"image": ["1", 0], "num": ["n", 0]}}, "3": {"class_type": "OutImg", "inputs": {"images": ["2", 0]}}}`, true, ""},
		{"STRING into union input", `{"1": {"class_type": "Source", "inputs": {}}, "s": {"class_type": "Str", "inputs": {"value": "x"}}, "2": {"class_type": "Img", "inputs": {"image": ["1", 0], "num": ["s", 0]}}, "3": {"class_type": "OutImg", "inputs": {"images": ["2", 0]}}}`, false, ": 2:num:return_type_mismatch"},
		{"literal for a link type", `{"2": {"class_type": "Out", "inputs": {"value": 5}}, "3": {"class_type": "Img", "inputs": {"image": "not an image"}}, "4": {"class_type": "OutImg", "inputs": {"images": ["3", 0]}}}`, true, ""},
		{"hidden value ignored", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0], "prompt": 7}}}`, true, ""},
		{"unknown input", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0], "imgaes": ["1", 0]}}}`, true, "2:imgaes:unknown_input(W)"},
		{"dotted dynamic input", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0], "images.extra": 1}}}`, true, ""},
		{"int range inclusive", `{"a": {"class_type": "Num", "inputs": {"value": 0}}, "b": {"class_type": "Num", "inputs": {"value": "10"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}, "p": {"class_type": "Out", "inputs": {"value": ["b", 0]}}}`, true, ""},
		{"int out of range", `{"a": {"class_type": "Num", "inputs": {"value": -1}}, "b": {"class_type": "Num", "inputs": {"value": 10.9}}, "c": {"class_type": "Num", "inputs": {"value": 11}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}, "p": {"class_type": "Out", "inputs": {"value": ["b", 0]}}, "q": {"class_type": "Out", "inputs": {"value": ["c", 0]}}}`, true, "a:value:value_smaller_than_min c:value:value_bigger_than_max"},
		{"float nan passes range", `{"a": {"class_type": "Flt", "inputs": {"value": "nan"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"float inf fails range", `{"a": {"class_type": "Flt", "inputs": {"value": "inf"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, false, ": a:value:value_bigger_than_max"},
		{"combo", `{"a": {"class_type": "Pick", "inputs": {"choice": 1.0, "v3": "y"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"combo bool equals 1", `{"a": {"class_type": "Pick", "inputs": {"choice": true, "v3": "y"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"combo bad", `{"a": {"class_type": "Pick", "inputs": {"choice": "A", "v3": "z"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, false, ": a:choice:value_not_in_list a:v3:value_not_in_list"},
		{"combo linked is not checked", `{"1": {"class_type": "Source", "inputs": {}}, "a": {"class_type": "Pick", "inputs": {"choice": ["1", 4], "v3": ["1", 2]}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"multiselect", `{"a": {"class_type": "Pick", "inputs": {"choice": "a", "v3": "x", "multi": {"__value__": ["p", "q"]}}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"multiselect bad", `{"a": {"class_type": "Pick", "inputs": {"choice": "a", "v3": "x", "multi": {"__value__": ["p", "r"]}}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, false, ": a:multi:value_not_in_list"},
		{"V3 combo without options is not checked", `{"a": {"class_type": "Pick", "inputs": {"choice": "a", "v3": "x", "remote": "anything"}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"__value__ unwrapped for STRING", `{"a": {"class_type": "Str", "inputs": {"value": {"__value__": [1, 2]}}}, "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}}}`, true, ""},
		{"length-3 list", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0, 0]}}}`, false, ": 2:images:bad_linked_input"},
		{"negative slot", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", -1]}}}`, false, ": 2:images:bad_linked_input"},
		{"float slot", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0.0]}}}`, false, ": 2:images:bad_linked_input"},
		{"link into output with no outputs", `{"1": {"class_type": "Out", "inputs": {"value": 1}}, "2": {"class_type": "Out", "inputs": {"value": ["1", 0]}}}`, true, "2:value:bad_linked_input"},
		{"required missing", `{"2": {"class_type": "OutImg", "inputs": {}}}`, false, ": 2:images:required_input_missing"},
		{"optional missing is fine", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "Img", "inputs": {"image": ["1", 0]}}, "3": {"class_type": "OutImg", "inputs": {"images": ["2", 0]}}}`, true, ""},
		{"unreachable invalid node", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0]}}, "3": {"class_type": "Num", "inputs": {"value": "x"}}}`, true, ""},
		{"self loop", `{"1": {"class_type": "Any", "inputs": {"value": ["1", 0]}}, "2": {"class_type": "Out", "inputs": {"value": ["1", 0]}}}`, false, ": 1:value:dependency_cycle"},
		{"output in its own cycle", `{"1": {"class_type": "Any", "inputs": {"value": ["2", 0]}}, "2": {"class_type": "Any", "inputs": {"value": ["1", 0]}}, "3": {"class_type": "Out", "inputs": {"value": ["2", 0]}}, "4": {"class_type": "Out", "inputs": {"value": 1}}}`, true, "1:value:dependency_cycle"},
		{"two cycles", `{"1": {"class_type": "Any", "inputs": {"value": ["2", 0]}}, "2": {"class_type": "Any", "inputs": {"value": ["1", 0]}}, "5": {"class_type": "Any", "inputs": {"value": ["6", 0]}}, "6": {"class_type": "Any", "inputs": {"value": ["5", 0]}}, "7": {"class_type": "Out", "inputs": {"value": ["2", 0]}}, "8": {"class_type": "Out", "inputs": {"value": ["6", 0]}}}`, false, ": 1:value:dependency_cycle 5:value:dependency_cycle"},
		{"empty partial list", `{"1": {"class_type": "Source", "inputs": {}}, "2": {"class_type": "OutImg", "inputs": {"images": ["1", 0]}}}`, false, "prompt_no_outputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts Options
			if tc.name == "empty partial list" {
				opts.PartialExecutionTargets = []string{}
			}
			r := Validate(parse(t, tc.src), s, opts)
			if r.Valid != tc.valid {
				t.Errorf("valid = %v, want %v (%s)", r.Valid, tc.valid, codes(r.Diags))
			}
			want := tc.want
			if strings.HasPrefix(want, ": ") {
				want = "prompt_outputs_failed_validation " + want[2:]
			}
			if got := codes(r.Diags); got != want {
				t.Errorf("diags = %q, want %q", got, want)
			}
			if (r.Error == nil) != r.Valid {
				t.Errorf("Error = %v with valid = %v", r.Error, r.Valid)
			}
		})
	}
}

func TestPartialSuccessAndDependentOutputs(t *testing.T) {
	s := testSet(t)
	// 1 is bad; 2 and 3 depend on it through 4; 5 is good; 6 depends on 7
	// (bad) and on 1.
	src := `{
	  "1": {"class_type": "Num", "inputs": {"value": 99}},
	  "4": {"class_type": "Any", "inputs": {"value": ["1", 0]}},
	  "2": {"class_type": "Out", "inputs": {"value": ["4", 0]}},
	  "3": {"class_type": "Out", "inputs": {"value": ["4", 0]}},
	  "5": {"class_type": "Out", "inputs": {"value": 1}},
	  "7": {"class_type": "Num", "inputs": {}},
	  "8": {"class_type": "Any", "inputs": {"value": ["7", 0]}},
	  "6": {"class_type": "Out", "inputs": {"value": ["8", 0]}},
	  "9": {"class_type": "Any", "inputs": {"value": ["1", 0]}}
	}`
	r := Validate(parse(t, src), s, Options{})
	if !r.Valid || strings.Join(r.Outputs, ",") != "5" || strings.Join(r.FailedOutputs, ",") != "2,3,6" {
		t.Fatalf("valid %v outputs %v failed %v", r.Valid, r.Outputs, r.FailedOutputs)
	}
	if got := codes(r.Diags); got != "1:value:value_bigger_than_max 7:value:required_input_missing" {
		t.Fatalf("diags %s", got)
	}
	if got := strings.Join(r.Diags[0].DependentOutputs, ","); got != "2,3" {
		t.Errorf("dependent outputs of 1 = %s", got)
	}
	if got := strings.Join(r.Diags[1].DependentOutputs, ","); got != "6" {
		t.Errorf("dependent outputs of 7 = %s", got)
	}
	resp, err := jsonx.Marshal(r.Response(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"error":null,"node_errors":{"1":{"errors":[{"type":"value_bigger_than_max","message":"Value 99 bigger than max of 10","details":"value","extra_info":{"input_name":"value","input_config":["INT",{"min":0,"max":10}],"received_value":99}}],"dependent_outputs":["2","3"],"class_type":"Num"},"7":{"errors":[{"type":"required_input_missing","message":"Required input is missing","details":"value","extra_info":{"input_name":"value"}}],"dependent_outputs":["6"],"class_type":"Num"}}}`
	if string(resp) != want {
		t.Errorf("response\n got %s\nwant %s", resp, want)
	}
	rep, _ := jsonx.Marshal(r.Report("a.json", "api"), "")
	if !strings.HasPrefix(string(rep), `{"file":"a.json","format":"api","valid":true,"error":null,"node_errors":{"1":`) {
		t.Errorf("report %s", rep)
	}
	// Only output 6: the prompt fails, and the details name only 6's own
	// errors (none).
	r = Validate(parse(t, src), s, Options{PartialExecutionTargets: []string{"6", "1"}})
	if r.Valid || r.Error.Code != diag.PromptOutputsFailedValidation || r.Error.Details != "" {
		t.Fatalf("partial: %v %v", r.Valid, r.Error)
	}
	if got := codes(r.Diags); got != "prompt_outputs_failed_validation 7:value:required_input_missing" {
		t.Errorf("partial diags %s", got)
	}
}

func TestWriteBack(t *testing.T) {
	s := testSet(t)
	src := `{
	  "a": {"class_type": "Num", "inputs": {"value": " 7 "}},
	  "b": {"class_type": "Flt", "inputs": {"value": 1}},
	  "c": {"class_type": "Str", "inputs": {"value": 1.50}},
	  "d": {"class_type": "Bool", "inputs": {"value": "False"}},
	  "e": {"class_type": "Flt", "inputs": {"value": "inf"}},
	  "f": {"class_type": "Num", "inputs": {"value": 3.9}},
	  "o": {"class_type": "Out", "inputs": {"value": ["a", 0]}},
	  "p": {"class_type": "Out", "inputs": {"value": ["b", 0]}},
	  "q": {"class_type": "Out", "inputs": {"value": ["c", 0]}},
	  "r": {"class_type": "Out", "inputs": {"value": ["d", 0]}},
	  "s": {"class_type": "Out", "inputs": {"value": ["e", 0]}},
	  "t": {"class_type": "Out", "inputs": {"value": ["f", 0]}}
	}`
	p := parse(t, src)
	r := Validate(p, s, Options{})
	if got := codes(r.Diags); got != "d:value:value_coerced(W) e:value:value_bigger_than_max" {
		t.Errorf("diags %s", got)
	}
	got, _ := jsonx.Marshal(valuesOf(p), "")
	if want := `{"a":7,"b":1.0,"c":"1.5","d":false,"e":"inf","f":3}`; string(got) != want {
		t.Errorf("written back %s, want %s", got, want)
	}
	// A second validation of the coerced prompt finds nothing more to coerce.
	r2 := Validate(p, s, Options{})
	if got := codes(r2.Diags); got != "e:value:value_bigger_than_max" {
		t.Errorf("second run diags %s", got)
	}
	// ReadOnly leaves the prompt alone.
	p = parse(t, src)
	Validate(p, s, Options{ReadOnly: true})
	got, _ = jsonx.Marshal(valuesOf(p), "")
	if want := `{"a":" 7 ","b":1,"c":1.50,"d":"False","e":"inf","f":3.9}`; string(got) != want {
		t.Errorf("read-only %s, want %s", got, want)
	}
}

func valuesOf(p *graph.Prompt) jsonx.Object {
	var o jsonx.Object
	for _, n := range p.Nodes {
		if in := n.Input("value"); in != nil && in.Link == nil {
			o = append(o, jsonx.Member{Key: n.ID, Value: in.Value})
		}
	}
	return o
}

func TestMissingClass(t *testing.T) {
	s := testSet(t)
	src := `{
	  "5": {"class_type": "Outt", "inputs": {}},
	  "2": {"inputs": {}},
	  "3": {"class_type": 7, "inputs": {}, "_meta": {"title": "Seven"}},
	  "4": {"class_type": null, "inputs": {}}
	}`
	r := Validate(parse(t, src), s, Options{})
	if r.Valid || r.Error == nil || r.Error.NodeID != "5" {
		t.Fatalf("error %v", r.Error)
	}
	var got []string
	for _, d := range r.Diags {
		got = append(got, d.NodeID+": "+d.Message+" | "+diag.Hint(d))
	}
	want := []string{
		"2: Node 'ID #2' has no class_type. The workflow may be corrupted or a custom node is missing. | ",
		"3: Node 'Seven' not found. The custom node may not be installed. | ",
		"4: Node 'None' not found. The custom node may not be installed. | ",
		`5: Node 'Outt' not found. The custom node may not be installed. | did you mean "Out"?`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	resp, _ := jsonx.Marshal(r.Response(), "")
	if want := `{"error":{"type":"missing_node_type","message":"Node 'Outt' not found. The custom node may not be installed.","details":"Node ID '#5'","extra_info":{"node_id":"5","class_type":"Outt","node_title":"Outt"}},"node_errors":{}}`; string(resp) != want {
		t.Errorf("response %s", resp)
	}
	// A nil schema set: every class is missing; no panic.
	r = Validate(parse(t, src), nil, Options{})
	if r.Valid || len(r.Diags) != 4 {
		t.Errorf("nil set: %s", codes(r.Diags))
	}
	// A nil prompt has no outputs.
	if r := Validate(nil, s, Options{}); r.Valid || r.Error.Code != diag.PromptNoOutputs {
		t.Errorf("nil prompt: %v", r.Error)
	}
}

func TestCycleDetails(t *testing.T) {
	s := testSet(t)
	// 10 -> 2 -> 30 -> 10 in data flow; reported on 2 (smallest id).
	src := `{
	  "10": {"class_type": "Any", "inputs": {"value": ["30", 0]}},
	  "2": {"class_type": "Any", "inputs": {"value": ["10", 0]}},
	  "30": {"class_type": "Any", "inputs": {"value": ["2", 0]}},
	  "40": {"class_type": "Out", "inputs": {"value": ["30", 0]}},
	  "41": {"class_type": "Out", "inputs": {"value": ["10", 0]}}
	}`
	r := Validate(parse(t, src), s, Options{})
	var cyc *diag.Diagnostic
	for _, d := range r.Diags {
		if d.Code == diag.DependencyCycle {
			if cyc != nil {
				t.Fatal("cycle reported twice")
			}
			cyc = d
		}
	}
	if cyc == nil || cyc.NodeID != "2" || cyc.Details != "value, 2 -> 30 -> 10 -> 2" {
		t.Fatalf("cycle %+v", cyc)
	}
	if got := fmt.Sprint(cyc.Extra["cycle_nodes"]); got != "[2 30 10]" {
		t.Errorf("cycle_nodes %s", got)
	}
	if got := strings.Join(cyc.DependentOutputs, ","); got != "40,41" {
		t.Errorf("dependent outputs %s", got)
	}
	// The same answer whichever output is validated first.
	r2 := Validate(parse(t, src), s, Options{PartialExecutionTargets: []string{"41"}})
	for _, d := range r2.Diags {
		if d.Code == diag.DependencyCycle && d.Details != cyc.Details {
			t.Errorf("from 41: %s", d.Details)
		}
	}
}

func TestDeterministic(t *testing.T) {
	s := testSet(t)
	src := `{
	  "9": {"class_type": "Out", "inputs": {"value": ["8", 0]}},
	  "8": {"class_type": "Pick", "inputs": {"choice": "zz", "v3": 3, "extra": 1}},
	  "1": {"class_type": "Num", "inputs": {"value": "x"}},
	  "7": {"class_type": "Out", "inputs": {"value": ["1", 0]}},
	  "6": {"class_type": "OutImg", "inputs": {"images": ["1", 0]}},
	  "5": {"class_type": "Img", "inputs": {"image": ["6", 0]}},
	  "4": {"class_type": "Out", "inputs": {"value": ["5", 0]}}
	}`
	var first string
	for i := 0; i < 20; i++ {
		r := Validate(parse(t, src), s, Options{})
		b, err := jsonx.Marshal(r.Response(), "")
		if err != nil {
			t.Fatal(err)
		}
		got := renderDiags(r.Diags) + string(b)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("run %d differs:\n%s\nvs\n%s", i, got, first)
		}
	}
}
