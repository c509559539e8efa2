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
// uses it).
func Seal(dir string) error {
	mp := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(mp)
	if err != nil {
		return err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	sum := func(rel string) (string, int64, error) {
		if err := checkRel(rel); err != nil {
			return "", 0, err
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", 0, err
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:]), int64(len(b)), nil
	}
	for n, mod := range m.Modules {
		if mod.SHA256, mod.Size, err = sum(mod.File); err != nil {
			return &FileError{Pack: dir, File: mod.File, Err: err}
		}
		m.Modules[n] = mod
	}
	for n, md := range m.Models {
		if md.SHA256, md.Size, err = sum(md.File); err != nil {
			return &FileError{Pack: dir, File: md.File, Err: err}
		}
		m.Models[n] = md
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&m); err != nil {
		return err
	}
	if _, err := ParseManifest(buf.Bytes()); err != nil {
		return &FileError{Pack: dir, File: ManifestFile, Err: err}
	}
	return os.WriteFile(mp, buf.Bytes(), 0o644)
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
		dir, err := extract(src, opts.Options)
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
	if err := copyTree(pre.Dir, stage); err != nil {
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
	p, err := Load(stage, lo)
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
// targets).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
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
		if _, err := io.Copy(out, in); err != nil {
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
