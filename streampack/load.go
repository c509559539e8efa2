package streampack

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"comfyrt/nodes/schema"
)

// Default limits of Options.
const (
	DefaultMaxBytes = 4 << 30 // expanded archive size
	DefaultMaxFiles = 10000   // archive entries
	maxManifest     = 8 << 20
)

// Options configure loading.
type Options struct {
	// Namespace, when set, prefixes every class of the pack with
	// "Namespace." so that two packs defining the same class can be loaded
	// side by side (the operator's choice).
	Namespace string
	// ComfyrtVersion is the running comfyrt version, checked against the
	// manifest's range; empty skips the check.
	ComfyrtVersion string
	// MaxBytes and MaxFiles limit what an archive may expand to (0: the
	// defaults).
	MaxBytes int64
	MaxFiles int
	// ExtractDir is where archives are expanded (a new folder under it per
	// archive; default: the system's temporary folder). Pack.Close removes
	// it.
	ExtractDir string
	// NoWASM skips compiling the WASM modules (validate and inspect only
	// need their hashes checked); such a pack cannot Register.
	NoWASM bool
	// WASM compiles and runs the modules (streampack/wasmv1); it is
	// required for packs with modules unless NoWASM is set.
	WASM WASMEngine
}

// Pack is a loaded, verified pack. It is read-only and safe for
// concurrent use once loaded; one Pack serves every stream.
type Pack struct {
	// Manifest is the decoded pack.json.
	Manifest *Manifest
	// Source is the folder or archive as given.
	Source string
	// Dir is the pack's root folder (for archives, the expansion).
	Dir string
	// Namespace is Options.Namespace.
	Namespace string

	schemas *schema.Set
	classes map[string]string // registered name → manifest class
	modules map[string]WASMModule
	tmp     string
	once    sync.Once
}

// Load reads and verifies a pack folder or .tar.gz (see the package
// documentation for what it refuses).
func Load(src string, opts Options) (*Pack, error) {
	return LoadContext(context.Background(), src, opts)
}

// LoadContext is Load that gives up when ctx is done (SIGINT on the
// command line): expanding an archive, hashing its files and compiling its
// modules stop between and within files, and what was expanded is removed.
// The error then wraps ctx.Err().
func LoadContext(ctx context.Context, src string, opts Options) (_ *Pack, err error) {
	p := &Pack{Source: src, Namespace: opts.Namespace}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	st, err := os.Stat(src)
	if err != nil {
		return nil, &FileError{Pack: src, Err: err}
	}
	if st.IsDir() {
		p.Dir = src
	} else {
		dir, err := extract(ctx, src, opts)
		if err != nil {
			return nil, err
		}
		p.tmp = dir
		p.Dir, err = archiveRoot(src, dir)
		if err != nil {
			return nil, err
		}
	}
	if err := p.checkLinks(); err != nil {
		return nil, err
	}
	if err := p.load(ctx, opts); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pack) fileErr(file string, err error) error {
	return &FileError{Pack: p.Source, File: file, Err: err}
}

// checkLinks walks the pack and refuses any symlink whose target resolves
// outside it.
func (p *Pack) checkLinks() error {
	root, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return p.fileErr("", err)
	}
	return filepath.WalkDir(p.Dir, func(full string, d fs.DirEntry, err error) error {
		if err != nil {
			return p.fileErr(relName(p.Dir, full), err)
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		real, err := filepath.EvalSymlinks(full)
		if err != nil {
			return p.fileErr(relName(p.Dir, full), fmt.Errorf("broken symlink: %w", err))
		}
		if !within(root, real) {
			return p.fileErr(relName(p.Dir, full), fmt.Errorf("%w: symlink to %s", ErrPathEscape, real))
		}
		return nil
	})
}

func relName(root, full string) string {
	r, err := filepath.Rel(root, full)
	if err != nil {
		return full
	}
	return filepath.ToSlash(r)
}

func within(root, p string) bool {
	r, err := filepath.Rel(root, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// Path returns the file of the pack at a manifest path, refusing paths
// that escape the pack (after symlinks).
func (p *Pack) Path(rel string) (string, error) {
	if err := checkRel(rel); err != nil {
		return "", p.fileErr(rel, err)
	}
	full := filepath.Join(p.Dir, filepath.FromSlash(path.Clean(rel)))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", p.fileErr(rel, err)
	}
	root, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return "", p.fileErr("", err)
	}
	if !within(root, real) {
		return "", p.fileErr(rel, fmt.Errorf("%w: resolves to %s", ErrPathEscape, real))
	}
	return full, nil
}

func (p *Pack) load(ctx context.Context, opts Options) error {
	mp, err := p.Path(ManifestFile)
	if err != nil {
		return err
	}
	data, err := readLimited(mp, maxManifest)
	if err != nil {
		return p.fileErr(ManifestFile, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return p.fileErr(ManifestFile, err)
	}
	p.Manifest = m
	if opts.ComfyrtVersion != "" {
		ok, err := m.Supports(opts.ComfyrtVersion)
		if err != nil {
			return p.fileErr(ManifestFile, err)
		}
		if !ok {
			return p.fileErr(ManifestFile, fmt.Errorf("%w: it needs comfyrt %s, this is %s", ErrIncompatible, m.Comfyrt, opts.ComfyrtVersion))
		}
	}
	if p.schemas, p.classes, err = packSchemas(m, p.Namespace, p.Source); err != nil {
		return p.fileErr(ManifestFile, err)
	}
	for _, name := range sortedKeys(m.Models) {
		md := m.Models[name]
		if err := p.verify(ctx, md.File, md.SHA256, md.Size); err != nil {
			if md.URL != "" && errors.Is(err, fs.ErrNotExist) {
				return p.fileErr(md.File, fmt.Errorf("%w: fetched from %s by 'comfyrt pack install'", ErrNotInstalled, md.URL))
			}
			return err
		}
	}
	for _, f := range append(append([]string(nil), m.Workflows...), testFiles(m)...) {
		if _, err := p.Path(f); err != nil {
			return err
		}
	}
	p.modules = map[string]WASMModule{}
	for _, name := range sortedKeys(m.Modules) {
		mod := m.Modules[name]
		full, err := p.Path(mod.File)
		if err != nil {
			return err
		}
		data, err := readLimited(full, mod.Size+1)
		if err != nil {
			return p.fileErr(mod.File, err)
		}
		if err := checkSum(data, mod.SHA256, mod.Size); err != nil {
			return p.fileErr(mod.File, err)
		}
		if err := ctx.Err(); err != nil {
			return p.fileErr(mod.File, err)
		}
		if opts.NoWASM {
			continue
		}
		if opts.WASM == nil {
			return p.fileErr(mod.File, errors.New("no WASM engine configured (streampack/wasmv1)"))
		}
		wm, err := opts.WASM.Compile(ctx, name, mod, data)
		if err != nil {
			return p.fileErr(mod.File, err)
		}
		p.modules[name] = wm
	}
	return nil
}

func testFiles(m *Manifest) []string {
	var out []string
	for _, t := range m.Tests {
		out = append(out, t.Workflow)
		out = append(out, t.Inputs...)
		out = append(out, t.Expected...)
		if t.Clip != "" {
			out = append(out, t.Clip)
		}
	}
	return out
}

// verify checks a file's size and sha256, streaming it.
func (p *Pack) verify(ctx context.Context, rel, sum string, size int64) error {
	full, err := p.Path(rel)
	if err != nil {
		return err
	}
	if err := verifyFile(ctx, full, sum, size); err != nil {
		return p.fileErr(rel, err)
	}
	return nil
}

func verifyFile(ctx context.Context, full, sum string, size int64) error {
	f, err := os.Open(full)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if st.Size() != size {
		return fmt.Errorf("%w: size %d, manifest says %d", ErrIntegrity, st.Size(), size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, io.LimitReader(f, size+1)}); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: sha256 %s, manifest says %s", ErrIntegrity, got, sum)
	}
	return nil
}

func checkSum(data []byte, sum string, size int64) error {
	if int64(len(data)) != size {
		return fmt.Errorf("%w: size %d, manifest says %d", ErrIntegrity, len(data), size)
	}
	h := sha256.Sum256(data)
	if got := hex.EncodeToString(h[:]); got != sum {
		return fmt.Errorf("%w: sha256 %s, manifest says %s", ErrIntegrity, got, sum)
	}
	return nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrIntegrity, limit)
	}
	return data, nil
}

// Schemas returns the pack's node classes (namespaced names).
func (p *Pack) Schemas() *schema.Set { return p.schemas }

// Classes returns the registered class names, sorted.
func (p *Pack) Classes() []string { return sortedKeys(p.classes) }

// ManifestClass returns the manifest's name of a registered class.
func (p *Pack) ManifestClass(class string) (string, bool) {
	c, ok := p.classes[class]
	return c, ok
}

// Close releases the compiled modules and removes an archive's expansion.
// Kernels made from the pack must be closed first.
func (p *Pack) Close() error {
	var err error
	p.once.Do(func() {
		for _, m := range p.modules {
			err = errors.Join(err, m.Close())
		}
		if p.tmp != "" {
			makeWritable(p.tmp)
			err = errors.Join(err, os.RemoveAll(p.tmp))
		}
	})
	return err
}

func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}

// ctxReader is a reader that fails with ctx's error once ctx is done,
// checked before every read: a long copy stops within a file.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// extract expands a .tar.gz into a new folder, with the limits of opts,
// until ctx is done (checked between entries and while one is copied).
// On any error the folder and everything written into it are removed (the
// deferred clean-up reads the local dir: the results are "" by then).
func extract(ctx context.Context, src string, opts Options) (_ string, err error) {
	maxBytes, maxFiles := opts.MaxBytes, opts.MaxFiles
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxFiles <= 0 {
		maxFiles = DefaultMaxFiles
	}
	f, err := os.Open(src)
	if err != nil {
		return "", &FileError{Pack: src, Err: err}
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", &FileError{Pack: src, Err: fmt.Errorf("not a .tar.gz: %w", err)}
	}
	defer zr.Close()
	dir, err := os.MkdirTemp(opts.ExtractDir, "comfyrt-pack-")
	if err != nil {
		return "", &FileError{Pack: src, Err: err}
	}
	defer func() {
		if err != nil {
			makeWritable(dir)
			os.RemoveAll(dir)
		}
	}()
	x := &expansion{ctx: ctx, tr: tar.NewReader(zr), dir: dir, maxBytes: maxBytes, maxFiles: maxFiles}
	for {
		if err := ctx.Err(); err != nil {
			return "", &FileError{Pack: src, Err: fmt.Errorf("expanding the archive: %w", err)}
		}
		h, err := x.tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", &FileError{Pack: src, Err: fmt.Errorf("reading archive: %w", err)}
		}
		if err := x.entry(h); err != nil {
			return "", &FileError{Pack: src, File: h.Name, Err: err}
		}
	}
	return dir, nil
}

// expansion is an archive being expanded into dir within its limits.
type expansion struct {
	ctx      context.Context
	tr       *tar.Reader
	dir      string
	maxBytes int64
	total    int64 // bytes written
	maxFiles int
	files    int // entries seen
}

// entry expands one archive entry: folders and regular files inside the
// pack; links, other entry types and paths leading out are refused.
func (x *expansion) entry(h *tar.Header) error {
	name := strings.TrimPrefix(h.Name, "./")
	if name == "" || name == "." {
		return nil
	}
	if err := checkRel(strings.TrimSuffix(name, "/")); err != nil {
		return err
	}
	if x.files++; x.files > x.maxFiles {
		return fmt.Errorf("%w: more than %d entries", ErrTooLarge, x.maxFiles)
	}
	target := filepath.Join(x.dir, filepath.FromSlash(path.Clean(name)))
	switch h.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(target, 0o755)
	case tar.TypeReg:
		return x.file(target, h.Size)
	case tar.TypeSymlink, tar.TypeLink:
		t := h.Linkname
		if h.Typeflag == tar.TypeSymlink && !strings.HasPrefix(t, "/") {
			t = path.Join(path.Dir(name), t)
		}
		if err := checkRel(t); err != nil {
			return fmt.Errorf("%w: link to %s", ErrPathEscape, h.Linkname)
		}
		return errors.New("links are not allowed in pack archives")
	default:
		return fmt.Errorf("entry type %q is not allowed in pack archives", h.Typeflag)
	}
}

// file writes the current entry (size bytes, as its header says) to
// target, read-only, counting it against maxBytes as it is written.
func (x *expansion) file(target string, size int64) error {
	if size < 0 || x.total+size > x.maxBytes {
		return fmt.Errorf("%w: expands beyond %d bytes", ErrTooLarge, x.maxBytes)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, ctxReader{x.ctx, io.LimitReader(x.tr, x.maxBytes-x.total+1)})
	cerr := out.Close()
	x.total += n
	if x.total > x.maxBytes {
		return fmt.Errorf("%w: expands beyond %d bytes", ErrTooLarge, x.maxBytes)
	}
	if err = errors.Join(err, cerr); err != nil && x.ctx.Err() != nil {
		err = fmt.Errorf("expanding the archive: %w", err)
	}
	return err
}

// archiveRoot finds pack.json at the top of the expansion or in its only
// folder.
func archiveRoot(src, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return dir, nil
	}
	ents, err := os.ReadDir(dir)
	if err == nil && len(ents) == 1 && ents[0].IsDir() {
		sub := filepath.Join(dir, ents[0].Name())
		if _, err := os.Stat(filepath.Join(sub, ManifestFile)); err == nil {
			return sub, nil
		}
	}
	return "", &FileError{Pack: src, File: ManifestFile, Err: errors.New("no pack.json at the top of the archive or of its only folder")}
}
