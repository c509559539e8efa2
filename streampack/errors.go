package streampack

import (
	"errors"
	"fmt"
)

// Sentinel errors; errors.Is finds them through *FileError and the kernel
// errors.
var (
	// ErrManifestVersion: manifest_version is not one this host reads.
	ErrManifestVersion = errors.New("unsupported manifest version")
	// ErrABIVersion: a module's ABI version (manifest abi or the guest's
	// comfyrt_abi_version) is not one this host supports.
	ErrABIVersion = errors.New("unsupported WASM ABI version")
	// ErrIntegrity: a file's size or sha256 differs from the manifest's.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrPathEscape: a path leads out of the pack.
	ErrPathEscape = errors.New("path escapes the pack")
	// ErrTooLarge: an archive expands beyond the size or file-count limit.
	ErrTooLarge = errors.New("pack archive too large")
	// ErrIncompatible: the pack does not support this comfyrt version.
	ErrIncompatible = errors.New("pack does not support this comfyrt version")
	// ErrDuplicateClass: two packs (or a pack and the built-in nodes)
	// define the same class.
	ErrDuplicateClass = errors.New("node class defined twice")
	// ErrInvalidManifest: the manifest is malformed or inconsistent.
	ErrInvalidManifest = errors.New("invalid manifest")
	// ErrUnsealed: a module or model of the manifest has no sha256 yet
	// (a pack source before Seal).
	ErrUnsealed = errors.New("pack is not sealed")
	// ErrNotInstalled: a model fetched by URL is not there yet.
	ErrNotInstalled = errors.New("model not installed")

	// ErrGuestTrap: the WASM guest trapped (out-of-bounds access,
	// unreachable, stack overflow…).
	ErrGuestTrap = errors.New("wasm guest trapped")
	// ErrGuestTimeout: a guest call ran past its deadline.
	ErrGuestTimeout = errors.New("wasm guest exceeded its deadline")
	// ErrGuestExit: the guest exited (a Go guest out of memory or
	// panicking exits with code 2).
	ErrGuestExit = errors.New("wasm guest exited")
	// ErrGuestABI: the guest broke the ABI (malformed answer, a buffer out
	// of its memory, wrong outputs).
	ErrGuestABI = errors.New("wasm guest broke the ABI")
)

// FileError is a pack refused because of one of its files.
type FileError struct {
	// Pack is the pack as given (folder or archive path).
	Pack string
	// File is the file inside the pack ("pack.json", "models/x.onnx").
	File string
	Err  error
}

func (e *FileError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("pack %s: %v", e.Pack, e.Err)
	}
	return fmt.Sprintf("pack %s: %s: %v", e.Pack, e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }
