package main

// R3 (packs) through the built binary: case-folded duplicate manifest
// keys, interrupted archive extraction, pack subcommand typos and
// 'comfyrt help CMD'.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"comfyrt/internal/testkit"
)

// TestR3BinaryCaseFoldedKeys: encoding/json matches manifest fields
// ignoring case, so "Name" after "name" (or "File" after "file") would
// silently replace the reviewed value; pack validate, inspect and install
// refuse it naming both spellings and where, and nothing is installed. A
// field spelled with another case alone is refused too.
func TestR3BinaryCaseFoldedKeys(t *testing.T) {
	dir := t.TempDir()
	base := packsManifest("Tiny", false)
	cases := []struct {
		name, old, new, want string
	}{
		{"name", `"name": "tiny",`, `"name": "tiny",` + "\n" + `  "Name": "evil-pack",`,
			`pack.json: invalid manifest: duplicate key "Name" at /Name (line 4, column 3, the same as "name" ignoring case; first given at line 3, column 3)`},
		{"model file", `"file": "models/m.onnx",`, `"file": "models/m.onnx", "File": "models/evil.onnx",`,
			`pack.json: invalid manifest: duplicate key "File" at /models/m/File (line 7`},
		{"field case", `"name": "tiny",`, `"Name": "tiny",`,
			`pack.json: invalid manifest: key "Name" at /Name (line 3, column 3): the field is "name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := bytes.Replace(base, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(m, base) {
				t.Fatalf("%q is not in the manifest", tc.old)
			}
			pack := packsDir(t, filepath.Join(dir, tc.name, "pack"), m)
			os.WriteFile(filepath.Join(pack, "models", "evil.onnx"), packsModel, 0o644)
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitInvalid || !strings.Contains(r.Stdout, tc.want) {
				t.Errorf("pack validate: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "inspect", pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("pack inspect: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			packs := filepath.Join(dir, tc.name, "packs")
			if r := testkit.Run(t, "", nil, packsTimeout, "pack", "install", "--packs-dir", packs, pack); r.Code != exitInvalid || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("pack install: %d, want %d and %s\n%s%s", r.Code, exitInvalid, tc.want, r.Stdout, r.Stderr)
			}
			if left := packsEntries(t, packs); len(left) > 0 {
				t.Errorf("a refused install left %v", left)
			}
		})
	}
	// The same pack without the second spelling is valid.
	pack := packsDir(t, filepath.Join(dir, "plain"), base)
	if r := testkit.Run(t, "", nil, packsTimeout, "pack", "validate", pack); r.Code != exitOK || !strings.Contains(r.Stdout, "ok (tiny 1.0.0") {
		t.Fatalf("pack validate of the plain manifest: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestR3BinaryInterruptedExtraction: SIGINT or SIGTERM while a pack
// archive is being expanded (pack validate, inspect, install, and --pack
// on run, validate and test) stops the expansion within the large entry
// it is writing, removes everything it wrote to $TMPDIR (and the packs
// folder) and exits with status 130, saying it was interrupted.
//
// The archive is a named pipe that the test writes a .tar.gz into as it
// goes: a 2 GiB entry of zeros of which only the first megabytes are sent
// before the signal, so the test needs a few MB of disk, not GBs, and the
// command is surely in the middle of the entry when the signal comes. The
// test keeps sending zeros after the signal until the command stops
// reading: a command that only checked between entries would take them
// all, one that did not catch the signal would die without cleaning up.
func TestR3BinaryInterruptedExtraction(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipes and SIGINT")
	}
	bin := testkit.Binary(t)
	work := t.TempDir()
	wf := filepath.Join(work, "wf.json")
	os.WriteFile(wf, []byte(`{}`), 0o644)
	cases := []struct {
		name string
		sig  os.Signal
		args []string
	}{
		{"pack validate SIGINT", os.Interrupt, []string{"pack", "validate", "PACK"}},
		{"pack inspect SIGTERM", syscall.SIGTERM, []string{"pack", "inspect", "PACK"}},
		{"pack install SIGTERM", syscall.SIGTERM, []string{"pack", "install", "--packs-dir", "PACKS", "PACK"}},
		{"pack install SIGINT", os.Interrupt, []string{"pack", "install", "--packs-dir", "PACKS", "PACK"}},
		{"run --pack SIGINT", os.Interrupt, []string{"run", "--pack", "PACK", wf}},
		{"validate --pack SIGTERM", syscall.SIGTERM, []string{"validate", "--pack", "PACK", wf}},
		{"test --pack SIGINT", os.Interrupt, []string{"test", "--pack", "PACK", wf}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tmp, packs := filepath.Join(dir, "tmp"), filepath.Join(dir, "packs")
			os.Mkdir(tmp, 0o755)
			fifo := filepath.Join(dir, "bomb.tar.gz")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no named pipes: %v", err)
			}
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.NewReplacer("PACKS", packs, "PACK", fifo).Replace(a))
			}
			cmd := exec.Command(bin, args...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "COMFYRT_PACKS=")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitc := make(chan error, 1)
			go func() { waitc <- cmd.Wait() }()
			openc := make(chan *os.File, 1)
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // until the command opens it
				if err != nil {
					f = nil
				}
				openc <- f
			}()
			var f *os.File
			select {
			case f = <-openc:
			case err := <-waitc:
				if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil { // frees the opener
					r.Close()
				}
				t.Fatalf("exited before reading the archive: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			if f == nil {
				t.Fatal("cannot open the pipe")
			}
			defer f.Close()
			zw := gzip.NewWriter(f)
			tw := tar.NewWriter(zw)
			for _, e := range []struct {
				name string
				data []byte
			}{{"tiny/pack.json", packsManifest("Tiny", false)}, {"tiny/models/m.onnx", packsModel}} {
				tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data))})
				tw.Write(e.data)
			}
			tw.WriteHeader(&tar.Header{Name: "tiny/models/big.bin", Typeflag: tar.TypeReg, Mode: 0o644, Size: 2 << 30})
			zero := make([]byte, 1<<20)
			send := func() error {
				if _, err := tw.Write(zero); err != nil {
					return err
				}
				return zw.Flush()
			}
			// Send zeros until the command has written 4 MiB of the entry.
			expanded := func() int64 {
				m, _ := filepath.Glob(filepath.Join(tmp, "comfyrt-pack-*", "tiny", "models", "big.bin"))
				if len(m) == 0 {
					return 0
				}
				st, err := os.Stat(m[0])
				if err != nil {
					return 0
				}
				return st.Size()
			}
			for sent := 0; expanded() < 4<<20; sent++ {
				if sent > 1<<10 { // 1 GiB sent: the command does not expand into $TMPDIR
					cmd.Process.Kill()
					<-waitc
					t.Fatalf("no expansion in $TMPDIR after 1 GiB sent: %v", packsEntries(t, tmp))
				}
				if err := send(); err != nil {
					<-waitc
					t.Fatalf("sending the archive: %v\n%s", err, stderr.String())
				}
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			// Keep sending until the command exits (the pipe then refuses
			// writes): a command that goes on expanding the entry after the
			// signal takes all it is sent.
			var werr error
			for i := 0; werr == nil; i++ {
				if i == 512 {
					cmd.Process.Kill()
					<-waitc
					t.Fatalf("still expanding after 512 MiB more were sent after the signal\n%s", stderr.String())
				}
				werr = send()
			}
			f.Close()
			err := <-waitc
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Errorf("exit: %v (sending after the signal: %v), want status %d\n%s%s", err, werr, exitInterrupted, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
			}
			if left := packsEntries(t, tmp); len(left) > 0 {
				t.Errorf("$TMPDIR holds %v after the interrupted command\n%s", left, stderr.String())
			}
			if left := packsEntries(t, packs); len(left) > 0 {
				t.Errorf("the packs folder holds %v after the interrupted command", left)
			}
			t.Logf("%s", strings.TrimSpace(stderr.String()))
		})
	}
}

// TestR3BinaryHelpAndSubcommandTypos: 'comfyrt help CMD' prints exactly
// what 'comfyrt CMD --help' prints (same streams, same status), for every
// command and for the pack subcommands ('comfyrt help pack validate',
// 'comfyrt pack help validate'); a mistyped pack subcommand is an unknown
// subcommand with a did-you-mean, like a mistyped command.
func TestR3BinaryHelpAndSubcommandTypos(t *testing.T) {
	same := func(t *testing.T, help, direct []string, want string) {
		t.Helper()
		h := testkit.Run(t, "", nil, packsTimeout, help...)
		d := testkit.Run(t, "", nil, packsTimeout, direct...)
		if h.Code != d.Code || h.Stdout != d.Stdout || h.Stderr != d.Stderr {
			t.Errorf("comfyrt %s (exit %d):\n%s%s\ndiffers from comfyrt %s (exit %d):\n%s%s",
				strings.Join(help, " "), h.Code, h.Stdout, h.Stderr, strings.Join(direct, " "), d.Code, d.Stdout, d.Stderr)
		}
		if d.Code != exitOK || !strings.Contains(d.Stdout+d.Stderr, want) {
			t.Errorf("comfyrt %s: exit %d, want %d and %q\n%s%s", strings.Join(direct, " "), d.Code, exitOK, want, d.Stdout, d.Stderr)
		}
	}
	for _, c := range commands() {
		same(t, []string{"help", c.name}, []string{c.name, "--help"}, "Usage: comfyrt "+c.name)
	}
	for _, sub := range []string{"validate", "inspect", "install", "list", "seal"} {
		same(t, []string{"help", "pack", sub}, []string{"pack", sub, "--help"}, "Usage: comfyrt pack "+sub)
		same(t, []string{"pack", "help", sub}, []string{"pack", sub, "--help"}, "Usage: comfyrt pack "+sub)
	}
	// 'help' alone is the general usage, on stdout.
	if r := testkit.Run(t, "", nil, packsTimeout, "help"); r.Code != exitOK || !strings.Contains(r.Stdout, "Commands:") {
		t.Errorf("comfyrt help: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// 'help' of an unknown command is the unknown command.
	if r := testkit.Run(t, "", nil, packsTimeout, "help", "rnu"); r.Code != exitUsage || !strings.Contains(r.Stderr, `unknown command "rnu"; did you mean run?`) {
		t.Errorf("comfyrt help rnu: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	for _, tc := range []struct{ typo, want string }{
		{"valdate", `comfyrt pack: unknown subcommand "valdate"; did you mean validate?`},
		{"instal", `comfyrt pack: unknown subcommand "instal"; did you mean install?`},
		{"lst", `comfyrt pack: unknown subcommand "lst"; did you mean list?`},
		{"frobnicate", `comfyrt pack: unknown subcommand "frobnicate"` + "\n"},
	} {
		r := testkit.Run(t, "", nil, packsTimeout, "pack", tc.typo, "x.tar.gz")
		if r.Code != exitUsage || !strings.HasPrefix(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "Usage: comfyrt pack") || r.Stdout != "" {
			t.Errorf("comfyrt pack %s: exit %d, want %d and stderr starting with %q, then the usage\n%s%s", tc.typo, r.Code, exitUsage, tc.want, r.Stdout, r.Stderr)
		}
	}
}

// TestR3BinaryRunOutputNamesAsDocumented: with several frame outputs,
// 'comfyrt run -o OUT.png' writes the output with the lowest node id
// (numerically: 3 before 12) to OUT.png and each other to OUT-ID.png, and
// that is what 'run --help' and the README say; the README's synopsis
// lists every pack subcommand and no longer calls pack "coming".
func TestR3BinaryRunOutputNamesAsDocumented(t *testing.T) {
	dir := t.TempDir()
	wf := `{
  "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 4, "batch_size": 1, "color": 255}},
  "12": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
  "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
  "20": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
}`
	os.WriteFile(filepath.Join(dir, "wf.json"), []byte(wf), 0o644)
	r := testkit.Run(t, dir, nil, packsTimeout, "run", "wf.json", "-o", "out.png")
	if r.Code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"out.png: SaveImage #3 ", "out-12.png: PreviewImage #12 ", "out-20.png: PreviewImage #20 "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("run's report lacks %q:\n%s", want, r.Stdout)
		}
	}
	if got := strings.Join(packsEntries(t, dir), " "); got != "out-12.png out-20.png out.png wf.json" {
		t.Errorf("files written: %s", got)
	}

	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	const rule = "the one with the lowest node id goes to OUT.png and each other to OUT-ID.png, ID being its node id"
	h := testkit.Run(t, "", nil, packsTimeout, "run", "--help")
	if help := oneLine(h.Stdout + h.Stderr); !strings.Contains(help, rule) || strings.Contains(help, "OUT-N") {
		t.Errorf("run --help does not say %q:\n%s", rule, h.Stderr)
	}
	readme, err := os.ReadFile(filepath.Join(testkit.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := oneLine(strings.ReplaceAll(string(readme), "`", ""))
	if !strings.Contains(text, rule) || strings.Contains(text, "OUT-N") {
		t.Errorf("README.md does not say %q", rule)
	}
	if !strings.Contains(text, "comfyrt pack validate|inspect|install|list|seal ...") {
		t.Errorf("README.md's synopsis of comfyrt pack lacks seal")
	}
	if strings.Contains(text, "coming: see Status") {
		t.Errorf("README.md still calls comfyrt pack coming")
	}
}
