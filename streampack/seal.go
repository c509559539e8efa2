package streampack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Seal fills in the size and sha256 of every module and model of the pack
// folder dir from the files there, rewrites its pack.json and checks the
// result. It is the last step of building a pack (streampack/example/mkpack
// and 'comfyrt pack seal' use it); it builds nothing. A model with a URL
// whose file is absent keeps the size and sha256 it has. Sealing a sealed
// pack whose files did not change leaves pack.json as it is.
func Seal(dir string) error {
	mp := filepath.Join(dir, ManifestFile)
	data, err := readLimited(mp, maxManifest)
	if err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	m, err := decodeManifest(data)
	if err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	for _, n := range sortedKeys(m.Modules) {
		mod := m.Modules[n]
		if mod.SHA256, mod.Size, err = hashFile(dir, mod.File); err != nil {
			return &FileError{Pack: dir, File: mod.File, Err: fmt.Errorf("modules.%s: %w", n, err)}
		}
		m.Modules[n] = mod
	}
	for _, n := range sortedKeys(m.Models) {
		md := m.Models[n]
		sum, size, err := hashFile(dir, md.File)
		switch {
		case err == nil:
			md.SHA256, md.Size = sum, size
		case md.URL != "" && errors.Is(err, fs.ErrNotExist) && md.SHA256 != "":
			// Fetched by 'comfyrt pack install': the manifest's values stay.
		case md.URL != "" && errors.Is(err, fs.ErrNotExist):
			return &FileError{Pack: dir, File: md.File, Err: fmt.Errorf("models.%s: %w (download it from %s once to seal its size and sha256)", n, err, md.URL)}
		default:
			return &FileError{Pack: dir, File: md.File, Err: fmt.Errorf("models.%s: %w", n, err)}
		}
		m.Models[n] = md
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return err
	}
	if _, err := ParseManifest(buf.Bytes()); err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	if bytes.Equal(buf.Bytes(), data) {
		return nil
	}
	if err := writeFileAtomic(mp, buf.Bytes()); err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	return nil
}

// hashFile returns the sha256 and size of the pack file at the manifest
// path rel, streaming it.
func hashFile(dir, rel string) (string, int64, error) {
	if err := checkRel(rel); err != nil {
		return "", 0, err
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return "", 0, err
	} else if !st.Mode().IsRegular() {
		return "", 0, errors.New("not a regular file")
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	if n == 0 {
		return "", 0, errors.New("empty file")
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeFileAtomic replaces name with data through a temporary file in the
// same folder, keeping name's permissions.
func writeFileAtomic(name string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(mode), f.Close())
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// InstallOptions configure Install.
type InstallOptions struct {
	Options
	// Client fetches models with a URL (nil: http.DefaultClient).
	Client *http.Client
	// Replace replaces an installed pack of the same name and version.
	Replace bool
}

// Install copies the pack at src (folder or .tar.gz) into packsDir as
// NAME-VERSION, fetching the models that have a URL and verifying their
// size and sha256, then loads the result to check it. It returns the
// installed folder.
func Install(ctx context.Context, src, packsDir string, opts InstallOptions) (string, error) {
	pre := &Pack{Source: src}
	st, err := os.Stat(src)
	if err != nil {
		return "", &FileError{Pack: src, Err: err}
	}
	if st.IsDir() {
		pre.Dir = src
	} else {
		dir, err := extract(ctx, src, opts.Options)
		if err != nil {
			return "", err
		}
		pre.tmp = dir
		defer pre.Close()
		if pre.Dir, err = archiveRoot(src, dir); err != nil {
			return "", err
		}
	}
	if err := pre.checkLinks(); err != nil {
		return "", err
	}
	mdata, err := readLimited(filepath.Join(pre.Dir, ManifestFile), maxManifest)
	if err != nil {
		return "", pre.fileErr(ManifestFile, err)
	}
	m, err := ParseManifest(mdata)
	if err != nil {
		return "", pre.fileErr(ManifestFile, err)
	}
	if err := os.MkdirAll(packsDir, 0o755); err != nil {
		return "", err
	}
	dest := filepath.Join(packsDir, m.Name+"-"+m.Version)
	if _, err := os.Stat(dest); err == nil && !opts.Replace {
		return "", fmt.Errorf("pack %s %s is already installed in %s", m.Name, m.Version, dest)
	}
	stage, err := os.MkdirTemp(packsDir, ".install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	if err := copyTree(ctx, pre.Dir, stage); err != nil {
		return "", pre.fileErr("", err)
	}
	for _, name := range sortedKeys(m.Models) {
		md := m.Models[name]
		target := filepath.Join(stage, filepath.FromSlash(md.File))
		if _, err := os.Stat(target); err == nil || md.URL == "" {
			continue
		}
		if err := fetch(ctx, opts.Client, md, target); err != nil {
			return "", pre.fileErr(md.File, err)
		}
	}
	lo := opts.Options
	lo.NoWASM = true
	p, err := LoadContext(ctx, stage, lo)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Pack = src
		}
		return "", err
	}
	p.Close()
	if opts.Replace {
		os.RemoveAll(dest)
	}
	if err := os.Rename(stage, dest); err != nil {
		return "", err
	}
	return dest, nil
}

// fetch downloads a model into target, checking size and sha256 as it
// goes; nothing is left behind on failure.
func fetch(ctx context.Context, c *http.Client, md Model, target string) error {
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, md.URL, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", md.URL, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.Create(target + ".part")
	if err != nil {
		return err
	}
	defer os.Remove(target + ".part")
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(resp.Body, md.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", md.URL, err)
	}
	if n != md.Size {
		return fmt.Errorf("%w: %s gave %d bytes, manifest says %d", ErrIntegrity, md.URL, n, md.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != md.SHA256 {
		return fmt.Errorf("%w: %s has sha256 %s, manifest says %s", ErrIntegrity, md.URL, got, md.SHA256)
	}
	return os.Rename(target+".part", target)
}

// copyTree copies the regular files and folders of src into dst
// (symlinks, already checked to stay inside, are copied as their
// targets), until ctx is done.
func copyTree(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(t, 0o755)
		}
		if strings.HasSuffix(d.Name(), ".part") {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() {
			return nil
		}
		out, err := os.OpenFile(t, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, ctxReader{ctx, in}); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// Installed lists the pack folders of packsDir (those with a pack.json).
func Installed(packsDir string) ([]string, error) {
	ents, err := os.ReadDir(packsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(packsDir, e.Name())
		if _, err := os.Stat(filepath.Join(p, ManifestFile)); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}
