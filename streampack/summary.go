package streampack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"comfyrt/nodes/schema"
)

// Summary is what `comfyrt pack inspect` shows of a loaded pack: its
// manifest's name and version, each class with its implementation and
// its inputs and outputs, the modules and models (by name), the example
// workflows and the tests.
type Summary struct {
	Source      string         `json:"source"`
	Name        string         `json:"name"`
	Version     string         `json:"version"`
	Comfyrt     string         `json:"comfyrt,omitempty"`
	Description string         `json:"description,omitempty"`
	Classes     []ClassSummary `json:"classes"`
	Modules     []Module       `json:"modules"`
	Models      []Model        `json:"models"`
	Workflows   []string       `json:"workflows"`
	Tests       []Test         `json:"tests"`
}

// ClassSummary is one class of a Summary: Impl is "wasm:MODULE" or
// "onnx:MODEL", Inputs "NAME TYPE".
type ClassSummary struct {
	Class   string   `json:"class"`
	Impl    string   `json:"implementation"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
}

// Summary summarises the pack (classes, modules and models sorted by
// name).
func (p *Pack) Summary() Summary {
	m := p.Manifest
	s := Summary{Source: p.Source, Name: m.Name, Version: m.Version, Comfyrt: m.Comfyrt, Description: m.Description,
		Workflows: m.Workflows, Tests: m.Tests}
	for _, c := range p.Classes() {
		n := p.Schemas().Lookup(c)
		mc, _ := p.ManifestClass(c)
		impl := m.Implementations[mc]
		cs := ClassSummary{Class: c, Outputs: n.Output}
		if impl.WASM != nil {
			cs.Impl = "wasm:" + impl.WASM.Module
		} else {
			cs.Impl = "onnx:" + impl.ONNX.Model
		}
		for _, in := range n.Inputs {
			cs.Inputs = append(cs.Inputs, in.Name+" "+in.Type)
		}
		s.Classes = append(s.Classes, cs)
	}
	for _, k := range sortedKeys(m.Modules) {
		s.Modules = append(s.Modules, m.Modules[k])
	}
	for _, k := range sortedKeys(m.Models) {
		s.Models = append(s.Models, m.Models[k])
	}
	return s
}

// ParseSelector splits a --pack argument "[NS=]PATH" into the namespace
// (none: "") and the path. A "=" after a character that a namespace
// cannot hold (/, \ or .) belongs to the path.
func ParseSelector(arg string) (ns, path string) {
	if i := strings.Index(arg, "="); i > 0 && !strings.ContainsAny(arg[:i], `/\.`) {
		return arg[:i], arg[i+1:]
	}
	return "", arg
}

// CheckClash refuses a pack class that builtins (the built-in classes)
// already define: such a pack must be loaded under a namespace.
func (p *Pack) CheckClash(builtins *schema.Set) error {
	for _, c := range p.Classes() {
		if builtins.Lookup(c) != nil {
			return &FileError{Pack: p.Source, File: ManifestFile,
				Err: fmt.Errorf("%w: class %s is a built-in class; load the pack under a namespace (--pack NS=PATH)", ErrDuplicateClass, c)}
		}
	}
	return nil
}

// WithSealHint adds to an unsealed pack's error (ErrUnsealed) how to seal
// it: `comfyrt pack seal` on the folder src, or on the folder an archive
// was made from. Other errors are returned as they are.
func WithSealHint(err error, src string) error {
	if !errors.Is(err, ErrUnsealed) {
		return err
	}
	if st, serr := os.Stat(src); serr == nil && st.IsDir() {
		return fmt.Errorf("%w\n  the pack is unsealed: build its files, then run 'comfyrt pack seal %s' to write their sizes and sha256 into pack.json", err, src)
	}
	return fmt.Errorf("%w\n  the pack is unsealed: run 'comfyrt pack seal DIR' on the folder it was made from, then archive that folder again", err)
}

// SealFolder seals the pack folder dir (Seal) and returns its manifest
// as written and whether pack.json changed. dir must be a folder: an
// archive is sealed by sealing the folder it is made from.
func SealFolder(dir string) (m *Manifest, changed bool, err error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a folder: seal the pack folder, then archive it")
		}
		return nil, false, fmt.Errorf("%s: %w", dir, err)
	}
	mp := filepath.Join(dir, ManifestFile)
	before, _ := os.ReadFile(mp)
	if err := Seal(dir); err != nil {
		return nil, false, err
	}
	after, err := os.ReadFile(mp)
	if err != nil {
		return nil, false, err
	}
	if m, err = ParseManifest(after); err != nil {
		return nil, false, fmt.Errorf("%s: %w", mp, err)
	}
	return m, !bytes.Equal(before, after), nil
}
