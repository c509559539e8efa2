package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/media/av"
	"comfyrt/internal/preview"
	"comfyrt/nodes/builtin"
)

// previewOpts are preview's flags.
type previewOpts struct {
	addr, token, workflow, inputDir, codec string
	examples                               string
	objectInfo                             multiFlag
	budgetMS                               int
	maxFPS                                 float64
	ef                                     *engineFlags
	log                                    *logOpts
}

func parsePreviewFlags(args []string, stderr io.Writer) (*previewOpts, int) {
	fs := newFlags("preview", "[--workflow FILE] [--addr 127.0.0.1:8188] [--token T]",
		"Serves a web page that sends the camera to comfyrt with WHIP, runs the\n"+
			"workflow on it in real time and plays the result back with WHEP. The page\n"+
			"loads other workflows (dropped on it; compiled first, errors shown per\n"+
			"node, swapped in without dropping the connection), edits the workflow's\n"+
			"widget inputs, and shows fps, drops, latency and the compiled plan.\n"+
			"Any WHIP/WHEP client works with POST /whip and POST /whep. Binds loopback\n"+
			"unless --addr says otherwise; --token guards WHIP, WHEP and the API (the\n"+
			"printed URL carries it in its #fragment). Without --workflow the built-in\n"+
			"default workflow runs. SIGINT/SIGTERM stop it.", stderr)
	o := &previewOpts{}
	fs.StringVar(&o.workflow, "workflow", "", "workflow `FILE` to start with (UI or API format; default: the built-in default workflow)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8188", "listen `address`")
	fs.StringVar(&o.token, "token", "", "bearer `token` required on WHIP, WHEP and the API")
	fs.StringVar(&o.examples, "examples", "workflows", "`folder` whose *.json workflows the page offers to pick (none when missing)")
	fs.StringVar(&o.inputDir, "input-dir", "", "`folder` static LoadImage files are read from (none: static images refused)")
	fs.StringVar(&o.codec, "codec", "vp8", "`codec` sent back to the page: vp8 or h264 (constrained baseline)")
	fs.IntVar(&o.budgetMS, "budget-ms", 500, "latency budget in ms, capture to output (frames that would miss it are dropped; 0: none)")
	fs.Float64Var(&o.maxFPS, "max-fps", 0, "input frame-rate cap (0: 24, negative: none)")
	fs.Var(&o.objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable)")
	o.ef = addEngineFlags(fs)
	o.log = addLogFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, flagExit(err)
	}
	switch {
	case len(rest) > 0:
		return nil, usageError(stderr, fs, "unexpected argument %q", rest[0])
	case o.log.check() != nil:
		return nil, usageError(stderr, fs, "%v", o.log.check())
	case o.codec != "vp8" && o.codec != "h264":
		return nil, usageError(stderr, fs, "--codec must be vp8 or h264, not %q", o.codec)
	case o.budgetMS < 0:
		return nil, usageError(stderr, fs, "--budget-ms must be 0 or more")
	}
	return o, exitOK
}

// config is the preview server's configuration (the workflow checked).
func (o *previewOpts) config(stderr io.Writer) (preview.Config, int) {
	fail := func(code int, format string, args ...any) (preview.Config, int) {
		fmt.Fprintf(stderr, "comfyrt preview: "+format+"\n", args...)
		return preview.Config{}, code
	}
	src, err := loadWorkflow(o.workflow, nil)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	schemas, err := loadSchemas(o.objectInfo, stderr)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, InputDir: o.inputDir, Confined: true}
	if err := o.ef.apply(&cfg); err != nil {
		return fail(exitUsage, "%v", err)
	}
	cfg.MaxBytes = o.ef.planBytes(2)
	examples, err := readExamples(o.examples)
	if err != nil {
		return fail(exitUsage, "--examples: %v", err)
	}
	budget := time.Duration(o.budgetMS) * time.Millisecond
	if budget == 0 {
		budget = -1
	}
	return preview.Config{Compiler: cfg, Workflow: src.data, WorkflowName: src.name, Examples: examples, Token: o.token, Budget: budget,
		MaxFPS: o.maxFPS, Codec: o.codec, Loopback: loopback(o.addr)}, exitOK
}

// maxExamples and maxExampleBytes bound what --examples reads.
const (
	maxExamples     = 200
	maxExampleBytes = 8 << 20
)

// readExamples reads the *.json workflows of dir (not its subfolders;
// *.test.json test descriptions skipped); a missing dir gives none.
func readExamples(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".test.json") {
			continue
		}
		if len(out) == maxExamples {
			return nil, fmt.Errorf("%s: more than %d workflows", dir, maxExamples)
		}
		if info, err := e.Info(); err != nil || info.Size() > maxExampleBytes {
			return nil, fmt.Errorf("%s: unreadable or larger than %d bytes", filepath.Join(dir, name), maxExampleBytes)
		}
		if out[name], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// loopback reports a listen address on the loopback interface.
func loopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// previewHandler is serve --preview's: the same server as comfyrt
// preview, under /preview/, starting with serve's default workflow (else
// the built-in one), guarded by serve's token; nil without --preview.
func (o *serveOpts) previewHandler(cfg compiler.Config, def []byte, logger *slog.Logger) (*preview.Server, error) {
	if !o.preview {
		return nil, nil
	}
	src, err := loadWorkflow("", nil)
	if err != nil {
		return nil, err
	}
	if def != nil {
		src.data, src.name = def, o.workflow
	}
	return preview.New(preview.Config{Compiler: cfg, Workflow: src.data, WorkflowName: src.name, Token: o.token,
		Prefix: "/preview", Loopback: loopback(o.addr), Logger: logger})
}

// httpHandler is p as an http.Handler (nil for none).
func httpHandler(p *preview.Server) http.Handler {
	if p == nil {
		return nil
	}
	return p
}

func cmdPreview(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	o, code := parsePreviewFlags(args, stderr)
	if o == nil {
		return code
	}
	if !av.Available {
		fmt.Fprintln(stderr, "comfyrt preview: this build has no FFmpeg (built without cgo)")
		return exitUsage
	}
	cfg, code := o.config(stderr)
	if code != exitOK {
		return code
	}
	logger := o.log.logger(stderr)
	cfg.Logger = logger
	av.SetLogLevel("error")
	srv, err := preview.New(cfg)
	if err != nil {
		var we *preview.WorkflowError
		if errors.As(err, &we) {
			for _, e := range we.Errors {
				fmt.Fprintf(stderr, "comfyrt preview: %s: %s\n", cfg.WorkflowName, describeNodeError(e))
			}
			return exitInvalid
		}
		fmt.Fprintf(stderr, "comfyrt preview: %v\n", err)
		return exitUsage
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt preview: %v\n", err)
		return exitUsage
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/"
	if o.token != "" {
		url += "#token=" + o.token
	}
	fmt.Fprintf(stdout, "comfyrt preview: open %s (workflow %s)\n", url, cfg.WorkflowName)
	code = exitOK
	select {
	case <-ctx.Done():
	case err := <-errc:
		logger.Error("serving HTTP", "err", err)
		code = exitUsage
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return code
}

// describeNodeError renders a workflow problem as validate's text does.
func describeNodeError(e preview.NodeError) string {
	s := e.Message
	if e.Details != "" {
		s += ": " + e.Details
	}
	if e.Node == "" {
		return e.Code + ": " + s
	}
	where := "node " + e.Node + " (" + e.Class + ")"
	if e.Input != "" {
		where += " input " + e.Input
	}
	return where + ": " + e.Code + ": " + s
}
