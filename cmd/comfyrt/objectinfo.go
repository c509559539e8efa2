package main

import (
	"fmt"
	"io"
	"strings"

	"comfyrt/graph"
	"comfyrt/nodes/schema"
)

// mergeObjectInfo merges the classes of an object_info file (read from
// path) into s, which holds the built-in and stream-pack classes. A class
// comfyrt runs with its own kernel keeps the schema it has in s: that
// schema describes what the kernel reads, and a server's dump describes that
// server (its LoadImage lists its own input folder; ComfyStream's derived
// PrimaryInputLoadImage entry declares no inputs). Where the file's
// definition differs, a warning naming the class goes to warn. Every other
// class is taken from the file; an entry without "input" is a class with no
// inputs.
func mergeObjectInfo(s, file *schema.Set, path string, kernel func(class string) bool, warn io.Writer) {
	for _, n := range file.Nodes() {
		own := s.Lookup(n.Name)
		if own == nil || !kernel(n.Name) {
			s.Add(n)
			continue
		}
		// Folder-listed choices (LoadImage's files) differ from server to
		// server; Differences does not count them (the built-in schema's
		// input is an open list of that folder).
		if d := own.Differences(n); len(d) > 0 && warn != nil {
			fmt.Fprintf(warn, "comfyrt: warning: --object-info %s: class %s: comfyrt's own schema is kept (its kernel reads those inputs); the file differs: %s\n",
				path, n.Name, strings.Join(d, "; "))
		}
	}
}

// frameUnlisted returns unlisted plus the frame input's image of prompt p,
// which is never checked against a file list: ComfyStream swaps that node
// for its tensor loader before ComfyUI validates. The frame input is the
// PrimaryInputLoadImage, else the only LoadImage (as compiler assigns
// roles). unlisted is not modified.
func frameUnlisted(p *graph.Prompt, unlisted map[string][]string) map[string][]string {
	if p == nil {
		return unlisted
	}
	var primary, images int
	for _, n := range p.Nodes {
		switch n.ClassType {
		case "PrimaryInputLoadImage":
			primary++
		case "LoadImage":
			images++
		}
	}
	class := ""
	switch {
	case primary > 0:
		class = "PrimaryInputLoadImage"
	case images == 1:
		class = "LoadImage"
	default:
		return unlisted
	}
	out := make(map[string][]string, len(unlisted)+1)
	for k, v := range unlisted {
		out[k] = v
	}
	out[class] = append(append([]string(nil), unlisted[class]...), "image")
	return out
}
