package diag

import (
	"encoding/json"
	"testing"
)

func marshal(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestObjectMarshal(t *testing.T) {
	o := Object{
		{"z", 1},
		{"a", "<&>"},
		{"nested", Object{{"y", nil}, {"x", []any{json.Number("1.0"), true}}}},
		{"empty", Object{}},
		{"nil", Object(nil)},
		{"list", []string{}},
	}
	want := `{"z":1,"a":"<&>","nested":{"y":null,"x":[1.0,true]},"empty":{},"nil":{},"list":[]}`
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if v, ok := o.Get("a"); !ok || v != "<&>" {
		t.Errorf("Get = %v, %v", v, ok)
	}
}

func TestComfyError(t *testing.T) {
	d := &Diagnostic{Code: ReturnTypeMismatch, NodeID: "3", Input: "images",
		Message: "Return type mismatch between linked nodes", Details: "images, received_type(MASK) mismatch input_type(IMAGE)",
		Extra: map[string]any{"linked_node": []any{"1", json.Number("1")}, "received_type": "MASK", "input_name": "images",
			"input_config": []any{"IMAGE", Object{}}, "zzz": 1, "aaa": 2, HintKey: "did you mean?"}}
	want := `{"type":"return_type_mismatch","message":"Return type mismatch between linked nodes","details":"images, received_type(MASK) mismatch input_type(IMAGE)",` +
		`"extra_info":{"input_name":"images","input_config":["IMAGE",{}],"received_type":"MASK","linked_node":["1",1],"aaa":2,"zzz":1}}`
	if got := marshal(t, d.ComfyError()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if Hint(d) != "did you mean?" || Hint(&Diagnostic{}) != "" || Hint(nil) != "" {
		t.Error("Hint")
	}
	empty := &Diagnostic{Code: PromptNoOutputs, Message: "Prompt has no outputs"}
	if got := marshal(t, empty.ComfyError()); got != `{"type":"prompt_no_outputs","message":"Prompt has no outputs","details":"","extra_info":{}}` {
		t.Errorf("got %s", got)
	}
}

func TestComfyResponse(t *testing.T) {
	top := &Diagnostic{Code: PromptOutputsFailedValidation, Message: "Prompt outputs failed validation"}
	l := List{
		top,
		{Code: RequiredInputMissing, NodeID: "10", ClassType: "KSampler", Input: "seed", Message: "Required input is missing", Details: "seed",
			Extra: map[string]any{"input_name": "seed"}, DependentOutputs: []string{"12", "9"}},
		{Code: ValueNotInList, NodeID: "9", ClassType: "SaveImage", Input: "x", Message: "Value not in list", Details: "x: 'a' not in []",
			DependentOutputs: []string{"9"}},
		{Code: ValueBiggerThanMax, NodeID: "10", ClassType: "KSampler", Input: "steps", Message: "Value 99 bigger than max of 10", Details: "steps",
			DependentOutputs: []string{"9", "100"}},
		{Code: UnknownInput, Severity: Warning, NodeID: "11", ClassType: "X", Input: "y", Message: "Unknown input"},
		{Code: MissingNodeType, NodeID: "4", Message: "Node 'X' not found."},
	}
	want := `{"error":{"type":"prompt_outputs_failed_validation","message":"Prompt outputs failed validation","details":"","extra_info":{}},"node_errors":{` +
		`"9":{"errors":[{"type":"value_not_in_list","message":"Value not in list","details":"x: 'a' not in []","extra_info":{}}],"dependent_outputs":["9"],"class_type":"SaveImage"},` +
		`"10":{"errors":[{"type":"required_input_missing","message":"Required input is missing","details":"seed","extra_info":{"input_name":"seed"}},` +
		`{"type":"value_bigger_than_max","message":"Value 99 bigger than max of 10","details":"steps","extra_info":{}}],"dependent_outputs":["9","12","100"],"class_type":"KSampler"}}}`
	if got := marshal(t, ComfyResponse(top, l)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := marshal(t, l.ComfyResponse()); got != want {
		t.Errorf("List.ComfyResponse:\ngot  %s\nwant %s", got, want)
	}
	if got := marshal(t, ComfyResponse(nil, nil)); got != `{"error":null,"node_errors":{}}` {
		t.Errorf("valid: %s", got)
	}
	// Without an explicit top, the first prompt-level error in list order.
	l2 := List{l[5], l[1]}
	if got := marshal(t, l2.ComfyResponse()); got[:40] != `{"error":{"type":"missing_node_type","me` {
		t.Errorf("got %s", got)
	}
}

func TestPromptLevel(t *testing.T) {
	for c, want := range map[Code]bool{
		MissingNodeType: true, PromptNoOutputs: true, PromptOutputsFailedValidation: true, InvalidPrompt: true, NoPrompt: true,
		RequiredInputMissing: false, DependencyCycle: false, ExceptionDuringValidation: false, UnknownInput: false,
	} {
		if PromptLevel(c) != want {
			t.Errorf("PromptLevel(%s) = %v", c, !want)
		}
	}
}
