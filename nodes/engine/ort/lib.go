package ort

import (
	"fmt"
	"os"
	"path/filepath"

	"comfyrt/nodes/engine"
)

// Version is the ONNX Runtime release this package is built and tested
// against.
const Version = "1.30.0"

// LibName is the file name of the shared library scripts/setup.sh fetches.
const LibName = "libonnxruntime.so." + Version

// LibEnv names the environment variable that overrides the library path.
const LibEnv = "COMFYRT_ORT_LIB"

// ErrNoLibrary is returned (wrapped) when no library file is found. It
// wraps engine.ErrNoLibrary.
var ErrNoLibrary = fmt.Errorf("ONNX Runtime %w", engine.ErrNoLibrary)

// getIt says how to get the library, for the not-found errors.
const getIt = "to get it, run scripts/setup.sh in the comfyrt checkout (it downloads " + LibName +
	" into .cache/ort/), or set " + LibEnv + " to the library file, or COMFYRT_CACHE to a folder holding ort/" + LibName

// LibraryPath returns the path of the ONNX Runtime shared library, looked
// up as the package documentation describes.
func LibraryPath() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v (%s must name the file %s; unset it to look in the usual places)", ErrNoLibrary, LibEnv, p, err, LibEnv, LibName)
		}
		return p, nil
	}
	var tried []string
	try := func(p string) bool {
		tried = append(tried, p)
		st, err := os.Stat(p)
		return err == nil && !st.IsDir()
	}
	if c := os.Getenv("COMFYRT_CACHE"); c != "" {
		if p := filepath.Join(c, "ort", LibName); try(p) {
			return p, nil
		}
	}
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dir := filepath.Dir(exe)
			if p := filepath.Join(dir, LibName); try(p) {
				return p, nil
			}
			starts = append(starts, dir)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if p := filepath.Join(dir, ".cache", "ort", LibName); try(p) {
				return p, nil
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	return "", fmt.Errorf("%w: %s is in none of $COMFYRT_CACHE/ort, the program's folder, or .cache/ort/ of any folder above the program or the working directory (first tried: %s); %s",
		ErrNoLibrary, LibName, tried[0], getIt)
}
