package schema

import (
	"fmt"

	"comfyrt/internal/jsonx"
)

// FolderOption is the option key, a comfyrt addition to object_info, that
// marks a combo whose choices ComfyUI lists from one of its folders when it
// starts (folder_paths names: "checkpoints", "loras", "vae", "input", …).
// Its value is the folder's name. Such a combo is an open list: a server
// with the file would list it, so any name is accepted (see Input.Folder).
// The option travels in the input's options object, so a set emitted and
// parsed again keeps it.
const FolderOption = "comfyrt_folder"

// Folder returns the folder an open-list combo's choices come from (the
// FolderOption), or "" for an input that is not one. A combo with a
// folder accepts any string: its Choices are only what was listed (usually
// none). WithChoices turns it back into a closed list.
func (in *Input) Folder() string {
	if !in.IsCombo() {
		return ""
	}
	s, _ := in.Str(FolderOption)
	return s
}

// WithFolder returns a copy of n whose combo input called input is an open
// list of the files of folder: its choices are emptied (a dump's listing
// names one server's files) and its options carry FolderOption, with Raw
// updated to match. The input's other options stay. n is not modified. It
// fails when n has no such input, the input is not a combo, or folder is
// empty.
func (n *Node) WithFolder(input, folder string) (*Node, error) {
	if folder == "" {
		return nil, fmt.Errorf("class %s input %q: empty folder name", n.Name, input)
	}
	idx, old, err := n.comboAt(input)
	if err != nil {
		return nil, err
	}
	opts := append(jsonx.Object{}, old.Options...)
	opts.Set(FolderOption, folder)
	return n.withCombo(idx, []any{}, opts), nil
}

// comboAt finds the combo input called input.
func (n *Node) comboAt(input string) (int, *Input, error) {
	for i, in := range n.Inputs {
		if in.Name != input {
			continue
		}
		if !in.IsCombo() {
			return 0, nil, fmt.Errorf("class %s input %q is %s, not a combo", n.Name, input, in.Type)
		}
		return i, in, nil
	}
	return 0, nil, fmt.Errorf("class %s has no input %q", n.Name, input)
}

// withCombo returns a copy of n whose combo input idx offers choices and
// has the options opts (nil: none), keeping its spec's form (classic list
// or V3 "COMBO" with options.options) and updating Raw.
func (n *Node) withCombo(idx int, choices []any, opts jsonx.Object) *Node {
	old := n.Inputs[idx]
	in := *old
	in.Choices = choices
	var spec []any
	if old.IsV3Combo() {
		opts = append(jsonx.Object{}, opts...)
		opts.Set("options", choices)
		spec = []any{TypeCombo, opts}
	} else {
		spec = []any{choices}
		if opts != nil {
			spec = append(spec, opts)
		}
	}
	in.Options = opts
	in.Spec = spec
	in.RawSpec = spec
	c := n.Clone()
	c.Inputs[idx] = &in
	if n.Raw != nil {
		c.Raw = replaceSpec(n.Raw, in.Section.String(), in.Name, spec)
	}
	return c
}
