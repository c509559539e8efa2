package videorun

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"comfyrt/executor"
)

// TestDataOut: text outputs become one JSON line each, blank ones are not
// written (as ComfyStream sends none), "-" writes to the given stdout, a
// nil DataOut discards, and a folder that does not exist is an error.
func TestDataOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "text.jsonl")
	d, err := OpenDataOut(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Write(executor.Text{NodeID: "7", Text: "hello \"world\"", Frame: 3, PTS: 1500 * time.Millisecond})
	d.Write(executor.Text{NodeID: "7", Text: "  \n", Frame: 4})
	d.Write(executor.Text{NodeID: "9", Text: "second", Frame: 4, PTS: 2 * time.Second})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"text","data":"hello \"world\"","node":"7","frame":3,"pts":1.5}` + "\n" +
		`{"type":"text","data":"second","node":"9","frame":4,"pts":2}` + "\n"
	if string(got) != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}

	var stdout bytes.Buffer
	d, err = OpenDataOut("-", &stdout)
	if err != nil {
		t.Fatal(err)
	}
	d.Write(executor.Text{NodeID: "1", Text: "x"})
	if err := d.Close(); err != nil || stdout.String() != `{"type":"text","data":"x","node":"1","frame":0,"pts":0}`+"\n" {
		t.Errorf("stdout %q, err %v", stdout.String(), err)
	}

	var none *DataOut
	none.Write(executor.Text{Text: "dropped"})
	if err := none.Close(); err != nil {
		t.Error(err)
	}
	if d, err := OpenDataOut("", nil); d != nil || err != nil {
		t.Errorf(`OpenDataOut("") = %v, %v`, d, err)
	}
	if _, err := OpenDataOut(filepath.Join(t.TempDir(), "no", "such", "dir.jsonl"), nil); err == nil {
		t.Error("a file in a missing folder was opened")
	}
}
