package main

import (
	"context"
	"fmt"
	"io"
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

func cmdServe(args []string, _ io.Reader, stdout, stderr io.Writer) int {
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
			"opening the same model with the same options share its loaded session.", stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "listen `address`")
	var objectInfo multiFlag
	fs.Var(&objectInfo, "object-info", "object_info JSON `FILE` with more node classes (repeatable)")
	capacity := fs.Int("capacity", 1, "concurrent streams (with 1, a new ai-runner start replaces the running stream)")
	token := fs.String("token", os.Getenv("AUTH_TOKEN"), "bearer `token` required on control endpoints (default $AUTH_TOKEN)")
	inputDir := fs.String("input-dir", "", "`folder` static LoadImage files of network workflows are read from (none: static images refused)")
	workflow := fs.String("workflow", "", "default workflow `FILE` for streams whose params name none")
	restartDelay := fs.Duration("restart-delay", 2*time.Second, "wait before restarting a workflow that fell back to passthrough")
	maxRestarts := fs.Int("max-restarts", 3, "restarts of one workflow before the stream passes through until the next update (0: never)")
	bodyTimeout := fs.Duration("body-timeout", 10*time.Second, "time a control request's body has to arrive before the request is cut off")
	ef := addEngineFlags(fs)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(rest) > 0 {
		return usageError(stderr, fs, "unexpected argument %q", rest[0])
	}
	if *restartDelay <= 0 || *maxRestarts < 0 {
		return usageError(stderr, fs, "--restart-delay must be positive and --max-restarts 0 or more")
	}
	if *capacity < 1 {
		return usageError(stderr, fs, "--capacity must be 1 or more")
	}
	if *bodyTimeout <= 0 {
		return usageError(stderr, fs, "--body-timeout must be positive")
	}
	schemas, err := loadSchemas(objectInfo, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return exitUsage
	}
	unlisted, err := builtin.FolderLists(schemas, "")
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return exitUsage
	}
	// Workflows arrive over the network: the files they name must lie in
	// the configured input and models folders.
	cfg := compiler.Config{Schemas: schemas, Registry: kernelRegistry(), Unlisted: unlisted, InputDir: *inputDir, Confined: true,
		Static: compiler.NewStaticCache()} // streams running the same workflow share its static results
	if err := ef.apply(&cfg); err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return exitUsage
	}
	// Each stream's plan gets its share of the memory budget: a workflow
	// that would not fit is refused (plan_too_large) before it allocates.
	cfg.MaxBytes = ef.planBytes(*capacity)
	var def []byte
	if *workflow != "" {
		if def, err = os.ReadFile(*workflow); err != nil {
			fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
			return exitUsage
		}
		if err := (&live.Runner{Compiler: cfg}).Check(context.Background(), server.Params{Workflow: def}); err != nil {
			fmt.Fprintf(stderr, "comfyrt serve: --workflow %s: %v\n", *workflow, err)
			return exitInvalid
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		return exitUsage
	}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, "comfyrt serve: "+f+"\n", a...) }
	av.SetLogLevel("error")
	mr := *maxRestarts
	if mr <= 0 {
		mr = -1 // live.Runner: negative is never
	}
	// Each stream's decoder, conversions and encoder get a share of the
	// CPUs rather than a thread per CPU each.
	threads := max(1, runtime.NumCPU() / *capacity)
	var runner server.StreamRunner = &live.Runner{Compiler: cfg, Logf: logf, RestartDelay: *restartDelay, MaxRestarts: mr, Threads: threads}
	if !live.Available() { // built without cgo: no FFmpeg, republish segments unchanged
		logf("warning: built without FFmpeg: streams run in passthrough")
		runner = &server.Passthrough{Check: (&live.Runner{Compiler: cfg}).Check}
	}
	srv := server.New(server.Config{
		Runner:          runner,
		Version:         version,
		Capacity:        *capacity,
		Token:           *token,
		DefaultWorkflow: def,
		Validate:        server.PromptValidator(schemas, unlisted, cfg),
		BodyTimeout:     *bodyTimeout,
		ObjectInfo:      server.ObjectInfo(schemas),
		Logf:            logf,
	})
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		if err := server.RegisterFromEnv(ctx, *capacity, *token); err != nil {
			fmt.Fprintf(stderr, "comfyrt serve: capability registration: %v\n", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "comfyrt serve: listening on http://%s (capacity %d)\n", ln.Addr(), *capacity)
	if cfg.MaxBytes > 0 {
		logf("plan memory budget %s per stream (--max-plan-bytes)", compiler.FormatBytes(cfg.MaxBytes))
	}
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintf(stderr, "comfyrt serve: %v\n", err)
		code = exitUsage
	}
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "comfyrt serve: shutdown: %v\n", err)
	}
	hs.Shutdown(sctx)
	<-regDone
	return code
}
