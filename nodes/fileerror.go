package nodes

import "comfyrt/graph/diag"

// Codes of FileError diagnostics.
const (
	// MissingFile: a file the workflow names (a model, an input picture)
	// is not there.
	MissingFile diag.Code = "missing_file"
	// InvalidFile: the file is there but cannot be used: not a regular
	// file, outside its folder, too big, or not in a format the node
	// reads.
	InvalidFile diag.Code = "invalid_file"
)

// FileError is a kernel's error about a file its workflow names. The
// compiler reports it under Code with Summary as the message (not as a
// kernel rejecting its inputs), and Err's text as the details. Its text
// names the file as the workflow named it; for confined workflows
// (Config.Confined) it never names the server's folders.
type FileError struct {
	// Code is MissingFile or InvalidFile.
	Code diag.Code
	// Summary is a short message: "Model file not found".
	Summary string
	// Input is the node input that names the file ("image"); "" when the
	// class implies the file.
	Input string
	// Err says what is wrong and, where it can, how to fix it.
	Err error
}

func (e *FileError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }
