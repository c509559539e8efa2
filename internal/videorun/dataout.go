package videorun

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"

	"comfyrt/executor"
)

// DataOut writes the text outputs of a run (--data-out) as JSON lines
// (executor.TextLine). A nil *DataOut discards them. Empty text is not
// written, as ComfyStream does not send it.
type DataOut struct {
	mu  sync.Mutex
	w   *bufio.Writer
	f   *os.File // nil for standard output
	err error
}

// OpenDataOut opens name ("-": stdout); "" gives nil.
func OpenDataOut(name string, stdout io.Writer) (*DataOut, error) {
	switch name {
	case "":
		return nil, nil
	case "-":
		return &DataOut{w: bufio.NewWriter(stdout)}, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	return &DataOut{w: bufio.NewWriter(f), f: f}, nil
}

// Write adds t's line; the first error is kept for Close.
func (d *DataOut) Write(t executor.Text) {
	if d == nil || strings.TrimSpace(t.Text) == "" {
		return
	}
	b, err := json.Marshal(t.Line())
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = err
	}
	if d.err == nil {
		_, d.err = d.w.Write(append(b, '\n'))
	}
}

// Close flushes the lines and closes the file.
func (d *DataOut) Close() error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.w.Flush(); d.err == nil {
		d.err = err
	}
	if d.f != nil {
		if err := d.f.Close(); d.err == nil {
			d.err = err
		}
	}
	return d.err
}
