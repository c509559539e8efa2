package preview

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// blendWorkflow blends the camera with its inverse: blend_factor 0 shows
// the camera, 1 the inverse.
const blendWorkflow = `{
  "1": {"class_type": "LoadImage", "inputs": {"image": "frame.png"}},
  "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  "3": {"class_type": "ImageBlend", "inputs": {"image1": ["1", 0], "image2": ["2", 0], "blend_factor": 0.0, "blend_mode": "normal"}},
  "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
}`

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestParams changes literal inputs through /api/params: the widgets
// follow, and bad updates are refused naming the node and input while the
// workflow stays.
func TestParams(t *testing.T) {
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(blendWorkflow)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	code, body := post(t, hs.URL+"/api/params", `{"updates": [{"node": "3", "input": "blend_factor", "value": 0.75}, {"node": "3", "input": "blend_mode", "value": "multiply"}]}`)
	if code != 200 || !strings.Contains(body, `"input":"blend_factor","type":"FLOAT","value":0.75`) || !strings.Contains(body, `"value":"multiply"`) {
		t.Fatalf("update: %d %s", code, body)
	}
	for _, c := range []struct{ body, want string }{
		{`{"node": "3", "input": "blend_factor", "value": 5}`, `"input":"blend_factor","code":"value_bigger_than_max"`},
		{`{"node": "9", "input": "x", "value": 1}`, `"code":"unknown_node"`},
		{`{"node": "3", "input": "image1", "value": 1}`, `"code":"not_a_widget"`},
		{`{"updates": []}`, `no updates`},
		{`{`, `params:`},
	} {
		code, body := post(t, hs.URL+"/api/params", c.body)
		if code < 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want %s", c.body, code, body, c.want)
		}
	}
	resp, err := http.Get(hs.URL + "/api/workflow")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"value":0.75`) {
		t.Errorf("the refused updates changed the workflow: %s", b)
	}
	code, body = post(t, hs.URL+"/api/workflow?name=x.json", `{"1": {"class_type": "ImageInvert", "inputs": {}}, "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}`)
	if code != 422 || !strings.Contains(body, `"node":"1"`) || !strings.Contains(body, `"input":"image"`) {
		t.Errorf("a workflow missing an input: %d %s", code, body)
	}
}

// TestExamples lists the example workflows and loads one by name.
func TestExamples(t *testing.T) {
	srv, err := New(Config{Compiler: testCompiler(t), Workflow: []byte(invertWorkflow),
		Examples: map[string][]byte{"blend.json": []byte(blendWorkflow), "identity.json": []byte(identityWorkflow)}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/api/examples")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "[\"blend.json\",\"identity.json\"]\n" {
		t.Errorf("examples: %s", b)
	}
	if code, body := post(t, hs.URL+"/api/workflow?example=blend.json", ""); code != 200 || !strings.Contains(body, `"name":"blend.json"`) || !strings.Contains(body, "blend_factor") {
		t.Errorf("load an example: %d %s", code, body)
	}
	if code, body := post(t, hs.URL+"/api/workflow?example=nope.json", ""); code != 404 {
		t.Errorf("unknown example: %d %s", code, body)
	}
}
