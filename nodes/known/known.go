package known

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"

	"comfyrt/nodes/builtin"
	"comfyrt/nodes/schema"
)

//go:generate go run ./gen -out .

// Sources of the classes of this package (schema.Node.Source).
const (
	// CoreSource marks a ComfyUI core class.
	CoreSource = "comfyui"
	// PackSource marks a class of a custom node pack (packs.json).
	PackSource = "custom-nodes"
)

//go:embed core.json.gz
var coreGz []byte

//go:embed packs.json
var packsJSON []byte

var (
	coreOnce, packsOnce sync.Once
	core, packs         *schema.Set
)

// Core returns the ComfyUI core classes (python_module "nodes",
// "comfy_extras.*", "comfy_api_nodes.*"), each with Source CoreSource. The
// Set is new on each call; its nodes are shared and read-only.
func Core() *schema.Set {
	coreOnce.Do(func() { core = mustParse(gunzip(coreGz), CoreSource, "core.json.gz") })
	return core.Clone()
}

// Packs returns the classes of the custom node packs in packs.json, each
// with Source PackSource. The Set is new on each call.
func Packs() *schema.Set {
	packsOnce.Do(func() { packs = mustParse(packsJSON, PackSource, "packs.json") })
	return packs.Clone()
}

// Schemas returns every known class: Core, then Packs, then the built-in
// classes (builtin.Schemas), a later set's class replacing an earlier one
// of the same name: a class comfyrt runs keeps the schema its kernel reads.
// The Set is new on each call, so a caller may add to it.
func Schemas() *schema.Set {
	return schema.Merged(Core(), Packs(), builtin.Schemas())
}

// gunzip expands the embedded table.
func gunzip(b []byte) []byte {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(fmt.Sprintf("known: embedded core.json.gz: %v", err))
	}
	out, err := io.ReadAll(r)
	if err != nil {
		panic(fmt.Sprintf("known: embedded core.json.gz: %v", err))
	}
	return out
}

// mustParse parses an embedded table; the files are part of the program
// and the tests parse them, so an error is a bug.
func mustParse(data []byte, source, file string) *schema.Set {
	s, err := schema.Parse(data, source)
	if err != nil {
		panic(fmt.Sprintf("known: embedded %s: %v", file, err))
	}
	return s
}
