package builtin

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"comfyrt/graph/diag"
	"comfyrt/nodes"
)

// Files a workflow names. A confined (network) workflow's files are opened
// through os.Root on the configured folder, so that no symlink leads out
// of it; every file must be a regular file (a FIFO or a device is refused
// without reading it: it is opened non-blocking and checked on the open
// descriptor), and pictures are read to at most a size cap. Error texts
// name the file as the workflow named it; for confined workflows they
// never name the server's folders.

// inputFile is an open LoadImage file.
type inputFile struct {
	io.Reader
	f *os.File
}

func (f inputFile) Close() error { return f.f.Close() }

// folderName names a folder in messages: the absolute path for local
// workflows, which helps their user, and nothing for confined ones.
func folderName(cfg nodes.Config, what, dir string) string {
	if cfg.Confined {
		return "the server's " + what
	}
	if dir == "" {
		return "the working directory"
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return "the " + what + " " + dir
}

// openErr turns an open or stat error into a FileError for file name
// (as the workflow named it) in folder.
func openErr(cfg nodes.Config, kind, input, name, what, dir string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &nodes.FileError{Code: diag.MissingFile, Summary: strings.ToUpper(kind[:1]) + kind[1:] + " not found", Input: input,
			Err: fmt.Errorf("%s %q: no such file in %s", kind, name, folderName(cfg, what, dir))}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // its Path is the server's
	}
	if err.Error() == "path escapes from parent" { // os.Root's error
		return &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid " + kind, Input: input,
			Err: fmt.Errorf("%s %q: a link that leads out of %s", kind, name, folderName(cfg, what, dir))}
	}
	return &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid " + kind, Input: input,
		Err: fmt.Errorf("%s %q: cannot be opened in %s: %v", kind, name, folderName(cfg, what, dir), err)}
}

// openInput opens the picture a LoadImage names (see resolveInput) for
// reading, at most maxBytes of it.
func openInput(cfg nodes.Config, name string, maxBytes int64) (io.ReadCloser, error) {
	rel, err := resolveInput(name)
	if err != nil {
		return nil, err
	}
	const flags = os.O_RDONLY | syscall.O_NONBLOCK // a FIFO must not block the open
	var f *os.File
	if cfg.Confined {
		root, err := os.OpenRoot(cfg.InputDir)
		if err != nil {
			return nil, openErr(cfg, "input image", "image", name, "input folder", cfg.InputDir, fmt.Errorf("the input folder cannot be opened"))
		}
		defer root.Close()
		f, err = root.OpenFile(rel, flags, 0)
		if err != nil {
			return nil, openErr(cfg, "input image", "image", name, "input folder", cfg.InputDir, err)
		}
	} else {
		f, err = os.OpenFile(filepath.Join(cfg.InputDir, rel), flags, 0)
		if err != nil {
			return nil, openErr(cfg, "input image", "image", name, "input folder", cfg.InputDir, err)
		}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, openErr(cfg, "input image", "image", name, "input folder", cfg.InputDir, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid input image", Input: "image",
			Err: fmt.Errorf("input image %q: not a regular file (%s)", name, fileType(st.Mode()))}
	}
	if st.Size() > maxBytes {
		f.Close()
		return nil, &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid input image", Input: "image",
			Err: fmt.Errorf("input image %q: %d bytes, over the limit of %d bytes for a picture", name, st.Size(), maxBytes)}
	}
	return inputFile{Reader: io.LimitReader(f, maxBytes), f: f}, nil
}

// fileType names a non-regular file's type.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// resolveInput maps a LoadImage file name to a path relative to the input
// folder. Like folder_paths.get_annotated_filepath it accepts a trailing
// " [input]" annotation; names that would leave the folder are refused.
func resolveInput(name string) (string, error) {
	name = strings.TrimSuffix(name, " [input]")
	if name == "" {
		return "", &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid input image", Input: "image", Err: errors.New("input image: no file name")}
	}
	rel := filepath.FromSlash(name)
	if !filepath.IsLocal(rel) {
		return "", &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid input image", Input: "image",
			Err: fmt.Errorf("input image %q: not a file name inside the input folder", name)}
	}
	return rel, nil
}

// modelHint says how to get model name: scripts/setup.sh fetches the
// project's own (TextDetModel); others come from the user.
func modelHint(name string) string {
	if name == TextDetModel {
		return "run scripts/setup.sh to fetch it (into .cache/models, or $COMFYRT_CACHE/models), or point --models-dir or $COMFYRT_MODELS at a folder that has it"
	}
	return "point --models-dir or $COMFYRT_MODELS at a folder that has it (scripts/setup.sh fetches only " + TextDetModel + ")"
}

// resolveModel returns the model file for a name relative to the models
// folder (or absolute, for local workflows), checking that it is there
// and a regular file. Symlinks in the models folder are followed: the
// folder is the operator's (ComfyUI setups often link their models in),
// and a workflow can only name files, not make links.
func resolveModel(cfg nodes.Config, name string) (string, error) {
	bad := func(err error) error {
		return &nodes.FileError{Code: diag.InvalidFile, Summary: "Invalid model file", Err: err}
	}
	if name == "" {
		return "", bad(errors.New("no model file named"))
	}
	var (
		p   string
		st  fs.FileInfo
		err error
	)
	switch {
	case filepath.IsAbs(name) && cfg.Confined:
		return "", bad(fmt.Errorf("model %q: absolute paths are not allowed here; name a file in the models folder", name))
	case filepath.IsAbs(name):
		p = name
		if st, err = os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found", Err: fmt.Errorf("model %q: no such file", name)}
			}
			return "", bad(fmt.Errorf("model %q: %v", name, err))
		}
	default:
		rel := filepath.FromSlash(name)
		if !filepath.IsLocal(rel) {
			return "", bad(fmt.Errorf("model %q: not a file name inside the models folder", name))
		}
		if cfg.ModelDir == "" {
			if cfg.Confined {
				return "", &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found",
					Err: fmt.Errorf("model %q: the server has no models folder", name)}
			}
			return "", &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found",
				Err: fmt.Errorf("model %q: no models folder was found (looked for $COMFYRT_MODELS, $COMFYRT_CACHE/models and .cache/models); %s", name, modelHint(name))}
		}
		p = filepath.Join(cfg.ModelDir, rel)
		if st, err = os.Stat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				msg := fmt.Errorf("model %q: no such file in %s; %s", name, folderName(cfg, "models folder", cfg.ModelDir), modelHint(name))
				if cfg.Confined {
					msg = fmt.Errorf("model %q: no such file in the server's models folder", name)
				}
				return "", &nodes.FileError{Code: diag.MissingFile, Summary: "Model file not found", Err: msg}
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", bad(fmt.Errorf("model %q: cannot be opened in %s: %v", name, folderName(cfg, "models folder", cfg.ModelDir), err))
		}
	}
	if !st.Mode().IsRegular() {
		return "", bad(fmt.Errorf("model %q: not a regular file (%s)", name, fileType(st.Mode())))
	}
	return p, nil
}
