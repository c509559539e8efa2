package schema_test

import (
	"reflect"
	"strings"
	"testing"

	"comfyrt/internal/jsonx"
	"comfyrt/nodes/schema"
)

func TestNode_withFolder(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `{"N":{"input":{"required":{"ckpt":[["a.safetensors","b.ckpt"],{"tooltip":"t"}],
		"v3":["COMBO",{"options":["x.png"],"remote":{"route":"/r"}}],"plain":[["m.pt"]],"n":["INT"]}},"future":1}}`)
	n := s.Lookup("N")
	c, err := n.WithFolder("ckpt", "checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ in, folder string }{{"v3", "output"}, {"plain", "loras"}} {
		if c, err = c.WithFolder(step.in, step.folder); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := jsonx.Marshal(c.JSON(), "")
	want := `{"input":{"required":{"ckpt":[[],{"tooltip":"t","comfyrt_folder":"checkpoints"}],` +
		`"v3":["COMBO",{"options":[],"remote":{"route":"/r"},"comfyrt_folder":"output"}],"plain":[[],{"comfyrt_folder":"loras"}],"n":["INT"]}},"future":1}`
	if string(out) != want {
		t.Errorf("JSON = %s\nwant %s", out, want)
	}
	if got := n.Input("ckpt"); got.Folder() != "" || len(got.Choices) != 2 {
		t.Errorf("WithFolder modified the original: %+v", got)
	}
	// The folder survives emitting and parsing again.
	re, err := schema.Parse(emitOne(t, c), "re")
	if err != nil {
		t.Fatal(err)
	}
	for in, folder := range map[string]string{"ckpt": "checkpoints", "v3": "output", "plain": "loras", "n": ""} {
		if got := re.Lookup("N").Input(in).Folder(); got != folder {
			t.Errorf("re-parsed %s: folder %q, want %q", in, got, folder)
		}
	}
	// Filling the list closes it: the folder option goes, the others stay.
	f, err := c.WithChoices("ckpt", []any{"mine.safetensors"})
	if err != nil {
		t.Fatal(err)
	}
	if in := f.Input("ckpt"); in.Folder() != "" || in.Tooltip() != "t" || !reflect.DeepEqual(in.Choices, []any{"mine.safetensors"}) {
		t.Errorf("filled = %+v", in)
	}
	if f, _ = c.WithChoices("plain", []any{"p.pt"}); !reflect.DeepEqual(f.Input("plain").SpecJSON(), []any{[]any{"p.pt"}}) {
		t.Errorf("filled plain spec = %v", f.Input("plain").SpecJSON())
	}
	for _, bad := range []struct{ in, folder string }{{"n", "x"}, {"ghost", "x"}, {"ckpt", ""}} {
		if _, err := n.WithFolder(bad.in, bad.folder); err == nil {
			t.Errorf("WithFolder(%q, %q): no error", bad.in, bad.folder)
		}
	}
}

// emitOne emits a one-class set holding n.
func emitOne(t *testing.T, n *schema.Node) []byte {
	t.Helper()
	s := schema.NewSet()
	s.Add(n)
	b, err := s.Marshal("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDifferences_folderChoices(t *testing.T) {
	t.Parallel()
	s := mustParse(t, `{"N":{"input":{"required":{"image":[["a.png"],{"image_upload":true}]}},"output":["IMAGE"]}}`)
	n := s.Lookup("N")
	open, err := n.WithFolder("image", "input")
	if err != nil {
		t.Fatal(err)
	}
	if d := open.Differences(n); len(d) != 0 {
		t.Errorf("open list vs a server's listing: %q", d)
	}
	if d := n.Differences(open); len(d) != 0 {
		t.Errorf("a server's listing vs open list: %q", d)
	}
	other, _ := n.WithFolder("image", "output")
	if d := open.Differences(other); len(d) != 1 || !strings.Contains(d[0], "comfyrt_folder") {
		t.Errorf("two folders: %q", d)
	}
	closed, _ := n.WithChoices("image", []any{"b.png"})
	if d := n.Differences(closed); len(d) != 1 || !strings.Contains(d[0], "choices") {
		t.Errorf("two listings: %q", d)
	}
}
