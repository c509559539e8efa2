package nodes

import "comfyrt/graph/diag"

// FileError is a kernel's error about a file its workflow names. The
// compiler reports it under Code with Summary as the message (not as a
// kernel rejecting its inputs), and Err's text as the details. Its text
// names the file as the workflow named it; for confined workflows
// (Config.Confined) it never names the server's folders.
type FileError struct {
	// Code is diag.MissingFile or diag.InvalidFile.
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
