// Command gen writes the table of ComfyUI core node classes that package
// known embeds: core.json.gz (the object_info of every class a ComfyUI
// server's dump lists from its own modules: python_module "nodes",
// "comfy_extras.*" and "comfy_api_nodes.*"; custom_nodes.* are left out)
// and core_gen.go (the dump's facts: file, sha256, ComfyUI version, class
// count). Combos that ComfyUI lists from a folder (folders.go) become open
// lists (schema.Node.WithFolder): their choices, one server's files, are
// dropped.
//
// Run by go generate in nodes/known:
//
//	go run ./gen [-dump FILE] [-out DIR]
//
// -dump defaults to _schemas/offflinerpsy__orchestrator-v3__object_info.json
// of the shared corpus ($COMFYRT_CORPUS, else ../shared/corpus beside the
// repository). The output is deterministic: the same dump gives the same
// bytes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// dumpName is the corpus dump the table is generated from.
const dumpName = "offflinerpsy__orchestrator-v3__object_info.json"

// defaultVersion says what is known of the dump's ComfyUI version.
const defaultVersion = "not recorded in the dump (no version field); the corpus INDEX.md dates it to a ComfyUI of about October 2025"

func main() {
	dump := flag.String("dump", "", "object_info `FILE` (default: the shared corpus's "+dumpName+")")
	out := flag.String("out", ".", "`folder` to write core.json.gz and core_gen.go into")
	version := flag.String("comfyui-version", defaultVersion, "the ComfyUI `version` the dump comes from, as recorded in core_gen.go")
	flag.Parse()
	if err := run(*dump, *out, *version); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}

func run(dump, out, version string) error {
	if dump == "" {
		var err error
		if dump, err = defaultDump(); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		return err
	}
	t, err := generate(data, filepath.Base(dump), version)
	if err != nil {
		return fmt.Errorf("%s: %w", dump, err)
	}
	if err := os.WriteFile(filepath.Join(out, tableFile), t.gz, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, factsFile), t.goSrc, 0o644)
}

// defaultDump finds the corpus dump: $COMFYRT_CORPUS/_schemas, else
// ../shared/corpus/_schemas beside the repository (the folder holding
// go.mod, found upwards from the working directory).
func defaultDump() (string, error) {
	if c := os.Getenv("COMFYRT_CORPUS"); c != "" {
		return filepath.Join(c, "_schemas", dumpName), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "corpus", "_schemas", dumpName), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory: give -dump")
		}
		dir = up
	}
}
