package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor/live"
	"comfyrt/executor/media/av"
	"comfyrt/internal/server"
	"comfyrt/nodes/builtin"
)

// serveOpts are serve's flags.
type serveOpts struct {
	addr, token, inputDir, workflow string
	objectInfo                      multiFlag
	capacity, maxRestarts           int
	restartDelay, bodyTimeout       time.Duration
	staticTimeout                   time.Duration
	preview                         bool
	ef                              *engineFlags
	log                             *logOpts
}

func cmdServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	o, code := parseServeFlags(args, stderr)
	if o == nil {
		return code
	}
	cfg, def, code := o.compilerConfig(stderr)
	if code != exitOK {
		return code
	}
	models := countModels(&cfg) // /metrics: model sessions and Runs (serve_models.go)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return exitUsage
	}
	logger := o.log.logger(stderr)
	av.SetLogLevel("error")
	ph, err := o.previewHandler(cfg, def, logger)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: --preview: %v\n", err)
		return exitInvalid
	}
	if ph != nil {
		defer ph.Close()
	}
	srv := server.New(server.Config{
		Preview:         httpHandler(ph),
		Runner:          o.runner(cfg, logger),
		Version:         version,
		Capacity:        o.capacity,
		Token:           o.token,
		DefaultWorkflow: def,
		Validate:        server.PromptValidator(cfg.Schemas, cfg.Unlisted, cfg),
		BodyTimeout:     o.bodyTimeout,
		ObjectInfo:      server.ObjectInfo(cfg.Schemas),
		Abandoned:       live.Abandoned,
		Models:          models,
		Logger:          logger,
	})
	return o.serve(srv, ln, logger, func() {
		fmt.Fprintf(stdout, "comfyrt serve: listening on http://%s (capacity %d)\n", ln.Addr(), o.capacity)
		if cfg.MaxBytes > 0 {
			logger.Info("plan memory budget per plan, two plans per stream at most (--max-plan-bytes)", "max_plan_bytes", compiler.FormatBytes(cfg.MaxBytes))
		}
	})
}

// parseServeFlags parses and checks serve's flags; nil means exit with
// the code.
func parseServeFlags(args []string, stderr io.Writer) (*serveOpts, int) {
	fs := newFlags("serve", "[--addr 127.0.0.1:8000] [--pack PATH]... [--capacity N] [--token T] [--workflow DEFAULT]",
		"Serves live streams to video-network orchestrators: the Livepeer ai-runner\n"+
			"contract (POST /live-video-to-video, /health, /hardware/*, /version, /metrics)\n"+
			"and the BYOC contract (/stream/start|params|stop|status) over trickle, plus\n"+
			"ComfyUI's /object_info and /prompt (validation only). Binds loopback unless\n"+
			"--addr says otherwise; SIGINT/SIGTERM stop the streams and exit.\n\n"+
			"Each stream's MPEG-TS input is decoded, run through its workflow on the\n"+
			"real-time executor and encoded as H.264 MPEG-TS segments, each starting\n"+
			"with an IDR; params updates are compiled first and swapped in at a frame\n"+
			"boundary: the previous workflow keeps running while a new one loads, and a\n"+
			"grey loading frame is shown while the first one loads (show_reloading_frame).\n"+
			"A workflow that fails on every frame passes the input through and is\n"+
			"restarted afresh after --restart-delay, at most --max-restarts times until\n"+
			"the next update (restart events, restart_count in status events). Streams\n"+
			"opening the same model with the same options share its loaded session.\n\n"+
			"Memory: each plan is limited by --max-plan-bytes; a stream may hold two plans\n"+
			"at once (its running one and the one a params update or a replacing start\n"+
			"compiles), so the default is half the RAM divided by 2×--capacity, and with an\n"+
			"explicit --max-plan-bytes a stream may use twice it. A workflow's static steps\n"+
			"and warm-up must finish within --static-timeout, else its start fails (or its\n"+
			"update is rejected); a kernel cannot be interrupted, so one that overran keeps a\n"+
			"CPU busy in the background until it ends (abandoned_goroutines in /health).\n\n"+
			"Logs go to stderr through log/slog (--log-format text|json, --log-level):\n"+
			"stream logs carry the stream id (stream), request logs the request id\n"+
			"(request, also the X-Request-Id response header).", stderr)
	o := &serveOpts{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8000", "listen `address`")
	fs.Var(&o.objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable)")
	fs.IntVar(&o.capacity, "capacity", 1, "concurrent streams (with 1, a new ai-runner start replaces the running stream)")
	fs.StringVar(&o.token, "token", os.Getenv("AUTH_TOKEN"), "bearer `token` required on control endpoints (default $AUTH_TOKEN)")
	fs.StringVar(&o.inputDir, "input-dir", "", "`folder` static LoadImage files of network workflows are read from (none: static images refused)")
	fs.StringVar(&o.workflow, "workflow", "", "default workflow `FILE` for streams whose params name none")
	fs.DurationVar(&o.restartDelay, "restart-delay", 2*time.Second, "wait before restarting a workflow that fell back to passthrough")
	fs.IntVar(&o.maxRestarts, "max-restarts", 3, "restarts of one workflow before the stream passes through until the next update (0: never)")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", 10*time.Second, "time a control request's body has to arrive before the request is cut off")
	fs.BoolVar(&o.preview, "preview", false, "also serve the browser preview (comfyrt preview's page, WHIP and WHEP) under /preview/")
	fs.DurationVar(&o.staticTimeout, "static-timeout", 60*time.Second, "time a workflow's static steps and warm-up have before its start fails (or its update is rejected)")
	o.ef = addEngineFlags(fs)
	o.log = addLogFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, flagExit(err)
	}
	if len(rest) > 0 {
		return nil, usageError(stderr, fs, "unexpected argument %q", rest[0])
	}
	if err := o.log.check(); err != nil {
		return nil, usageError(stderr, fs, "%v", err)
	}
	if o.restartDelay <= 0 || o.maxRestarts < 0 {
		return nil, usageError(stderr, fs, "--restart-delay must be positive and --max-restarts 0 or more")
	}
	if o.capacity < 1 {
		return nil, usageError(stderr, fs, "--capacity must be 1 or more")
	}
	if o.bodyTimeout <= 0 {
		return nil, usageError(stderr, fs, "--body-timeout must be positive")
	}
	if o.staticTimeout <= 0 {
		return nil, usageError(stderr, fs, "--static-timeout must be positive")
	}
	return o, exitOK
}

// compilerConfig is the streams' compile configuration and the default
// workflow (checked to compile).
func (o *serveOpts) compilerConfig(stderr io.Writer) (compiler.Config, []byte, int) {
	fail := func(err error) (compiler.Config, []byte, int) {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return compiler.Config{}, nil, exitUsage
	}
	schemas, err := loadSchemas(o.objectInfo, stderr)
	if err != nil {
		return fail(err)
	}
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		return fail(err)
	}
	// Workflows arrive over the network: the files they name must lie in
	// the configured input and models folders.
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, InputDir: o.inputDir, Confined: true,
		Static: compiler.NewStaticCache()} // streams running the same workflow share its static results
	if err := o.ef.apply(&cfg); err != nil {
		return fail(err)
	}
	// Each stream's plan gets its share of the memory budget: a workflow
	// that would not fit is refused (plan_too_large) before it allocates.
	// A stream may hold two plans at once (its running one and the one a
	// params update, or a start replacing it, compiles), so the default
	// shares the budget between 2×capacity plans.
	cfg.MaxBytes = o.ef.planBytes(2 * o.capacity)
	if o.workflow == "" {
		return cfg, nil, exitOK
	}
	def, err := os.ReadFile(o.workflow)
	if err != nil {
		return fail(err)
	}
	if err := (&live.Runner{Compiler: cfg}).Check(context.Background(), server.Params{Workflow: def}); err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: --workflow %s: %v\n", o.workflow, err)
		return compiler.Config{}, nil, exitInvalid
	}
	return cfg, def, exitOK
}

// runner is the streams' runner: the executor, or the passthrough in a
// build without FFmpeg.
func (o *serveOpts) runner(cfg compiler.Config, logger *slog.Logger) server.StreamRunner {
	mr := o.maxRestarts
	if mr <= 0 {
		mr = -1 // live.Runner: negative is never
	}
	// Each stream's decoder, conversions and encoder get a share of the
	// CPUs rather than a thread per CPU each.
	threads := max(1, runtime.NumCPU()/o.capacity)
	r := &live.Runner{Compiler: cfg, Logger: logger, RestartDelay: o.restartDelay, MaxRestarts: mr, Threads: threads,
		StaticTimeout: o.staticTimeout}
	if !live.Available() { // built without cgo: no FFmpeg, republish segments unchanged
		logger.Warn("built without FFmpeg: streams run in passthrough")
		return &server.Passthrough{Check: r.Check}
	}
	return r
}

// serve serves HTTP on ln and registers with the orchestrator (when the
// environment says so) until SIGINT/SIGTERM or a listener error, then
// stops the streams. announce runs once the signals are caught.
func (o *serveOpts) serve(srv *server.Server, ln net.Listener, logger *slog.Logger, announce func()) int {
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		if err := server.RegisterFromEnv(ctx, o.capacity, o.token); err != nil {
			logger.Error("capability registration", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	announce()
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-errc:
		logger.Error("serving HTTP", "err", err)
		code = exitUsage
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Error("shutdown", "err", err)
	}
	hs.Shutdown(sctx)
	<-regDone
	return code
}
