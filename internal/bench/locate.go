package bench

import (
	"os"
	"path/filepath"
)

// FindUp returns rel joined to the working directory or the nearest folder
// above it (or above the program's folder) where it exists, else rel: the
// Config.Locate of `comfyrt bench`, which finds workflows/… of the source
// tree from wherever the binary runs inside it.
func FindUp(rel string) string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			starts = append(starts, filepath.Dir(exe))
		}
	}
	for _, dir := range starts {
		if p, ok := findAbove(dir, rel); ok {
			return p
		}
	}
	return rel
}

// findAbove looks for rel in dir and each folder above it.
func findAbove(dir, rel string) (string, bool) {
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", false
		}
		dir = up
	}
}
