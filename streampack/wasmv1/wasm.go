package wasmv1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"comfyrt/nodes"
	"comfyrt/nodes/value"
	"comfyrt/streampack"
)

// Sandbox defaults.
const (
	DefaultMemoryMB  = 256
	DefaultTimeoutMS = 1000
	prepareFactor    = 10
	maxAnswer        = 1 << 20
	maxMessage       = 4 << 10
	stderrTail       = 2 << 10
)

// Runtime compiles WASM modules, sharing one compilation cache (in memory,
// or in a folder so that later processes skip compiling). It is safe for
// concurrent use.
type Runtime struct {
	cache wazero.CompilationCache
	// noDeadline leaves out of compiled code the check for a closed
	// module at every loop back-edge and function entry, which is what
	// lets the per-call deadline stop a guest that never returns. The
	// check costs Go guests about 10× in compute (see
	// BenchmarkColorGrade512, which measures a runtime without it); every
	// runtime NewRuntime returns has it.
	noDeadline bool
}

// NewRuntime returns a runtime whose compilation cache lives in dir, or in
// memory when dir is "".
func NewRuntime(dir string) (*Runtime, error) {
	if dir == "" {
		return &Runtime{cache: wazero.NewCompilationCache()}, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wasm compilation cache %s: %w", dir, err)
	}
	return &Runtime{cache: c}, nil
}

var (
	defaultRT     *Runtime
	defaultRTOnce sync.Once
)

// DefaultRuntime is the process-wide runtime with an in-memory cache.
func DefaultRuntime() *Runtime {
	defaultRTOnce.Do(func() { defaultRT, _ = NewRuntime("") })
	return defaultRT
}

var (
	userRT     *Runtime
	userRTOnce sync.Once
)

// UserCacheRuntime is the process-wide runtime whose compiled modules are
// cached on disk in the user cache folder (comfyrt/wasm), so that later
// processes skip the compile (about a second for a Go guest); it is
// DefaultRuntime where that folder cannot be used.
func UserCacheRuntime() *Runtime {
	userRTOnce.Do(func() {
		if d, err := os.UserCacheDir(); err == nil {
			if rt, err := NewRuntime(filepath.Join(d, "comfyrt", "wasm")); err == nil {
				userRT = rt
				return
			}
		}
		userRT = DefaultRuntime()
	})
	return userRT
}

// Close releases the compilation cache.
func (r *Runtime) Close() error { return r.cache.Close(context.Background()) }

// wasmModule is one compiled module with its sandbox policy. Each module
// gets its own wazero runtime (the memory cap is a runtime setting); the
// compiled code comes from the shared cache.
type wasmModule struct {
	name        string
	rt          wazero.Runtime
	compiled    wazero.CompiledModule
	timeout     time.Duration
	prepTimeout time.Duration
	clock       bool
}

// Compile implements streampack.WASMEngine: it checks the module's
// imports (WASI only) and ABI exports, compiles it for its memory cap and
// asks the guest for its ABI version.
func (r *Runtime) Compile(ctx context.Context, name string, m streampack.Module, data []byte) (_ streampack.WASMModule, err error) {
	mb := m.MemoryMB
	if mb == 0 {
		mb = DefaultMemoryMB
	}
	ms := m.TimeoutMS
	if ms == 0 {
		ms = DefaultTimeoutMS
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(r.cache).
		WithCloseOnContextDone(!r.noDeadline).
		WithMemoryLimitPages(uint32(mb) * 16) // 64 KiB pages
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer func() {
		if err != nil {
			rt.Close(ctx)
		}
	}()
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, err
	}
	compiled, err := rt.CompileModule(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("not a valid WASM module: %w", err)
	}
	for _, f := range compiled.ImportedFunctions() {
		mod, fn, _ := f.Import()
		if mod != wasiModule {
			return nil, fmt.Errorf("module imports %s.%s: only %s functions are allowed", mod, fn, wasiModule)
		}
	}
	exp := compiled.ExportedFunctions()
	want := map[string][2][]api.ValueType{
		exportABIVersion: {nil, {api.ValueTypeI32}},
		exportMalloc:     {{api.ValueTypeI32}, {api.ValueTypeI32}},
		exportPrepare:    {{api.ValueTypeI32, api.ValueTypeI32}, {api.ValueTypeI64}},
		exportRun:        {nil, {api.ValueTypeI64}},
	}
	if _, ok := exp[exportABIVersion]; !ok {
		return nil, fmt.Errorf("%w: module does not export %s (not a comfyrt module?)", streampack.ErrABIVersion, exportABIVersion)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f, ok := exp[n]
		if !ok {
			return nil, fmt.Errorf("%w: module does not export %s (ABI %d)", streampack.ErrABIVersion, n, streampack.ABIVersion)
		}
		if !slices.Equal(f.ParamTypes(), want[n][0]) || !slices.Equal(f.ResultTypes(), want[n][1]) {
			return nil, fmt.Errorf("%w: export %s has the wrong signature", streampack.ErrABIVersion, n)
		}
	}
	if _, ok := compiled.ExportedMemories()[exportMemory]; !ok {
		return nil, fmt.Errorf("%w: module does not export its memory", streampack.ErrABIVersion)
	}
	wm := &wasmModule{name: name, rt: rt, compiled: compiled,
		timeout: time.Duration(ms) * time.Millisecond, clock: slices.Contains(m.Grants, streampack.GrantClock)}
	wm.prepTimeout = wm.timeout * prepareFactor
	// Ask the guest which ABI it speaks.
	inst, _, err := wm.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	defer inst.Close(ctx)
	stack := []uint64{0}
	cctx, cancel := context.WithTimeout(ctx, wm.prepTimeout)
	err = inst.ExportedFunction(exportABIVersion).CallWithStack(cctx, stack)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", exportABIVersion, err)
	}
	if v := int32(stack[0]); v != streampack.ABIVersion {
		return nil, fmt.Errorf("%w: the module speaks ABI %d, this comfyrt %d", streampack.ErrABIVersion, v, streampack.ABIVersion)
	}
	return wm, nil
}

// Close releases the module's runtime.
func (m *wasmModule) Close() error { return m.rt.Close(context.Background()) }

// instantiate starts a fresh instance: no file system, no network, no
// arguments or environment, fake clocks unless granted, stdout and stderr
// kept in a bounded buffer for error messages.
func (m *wasmModule) instantiate(ctx context.Context) (api.Module, *tail, error) {
	t := &tail{}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithStdout(t).WithStderr(t)
	if m.clock {
		cfg = cfg.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	cctx, cancel := context.WithTimeout(ctx, m.prepTimeout)
	defer cancel()
	inst, err := m.rt.InstantiateModule(cctx, m.compiled, cfg)
	if err != nil {
		return nil, nil, guestErr(err, cctx, t, "instantiate")
	}
	return inst, t, nil
}

// tail keeps the first and the last bytes a guest wrote to stdout and
// stderr (a Go runtime crash says what happened first, then dumps
// goroutines).
type tail struct {
	mu   sync.Mutex
	head []byte
	buf  []byte
	cut  bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if room := stderrTail/2 - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTail {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTail:]...)
		t.cut = true
	}
	return n, nil
}

func (t *tail) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sep := ""
	if t.cut {
		sep = "\n…\n"
	}
	return strings.TrimSpace(string(t.head) + sep + string(t.buf))
}

// GuestError is a failed guest call: Kind is streampack.ErrGuestTrap,
// streampack.ErrGuestTimeout, streampack.ErrGuestExit or streampack.ErrGuestABI; Err is wazero's error (a
// trap keeps its identity, *sys.ExitError for exits) when there is one.
type GuestError struct {
	Kind   error
	Call   string
	Detail string
	Output string // the guest's last stdout/stderr lines
	Err    error
}

func (e *GuestError) Error() string {
	s := fmt.Sprintf("%v in %s", e.Kind, e.Call)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Output != "" {
		s += " (guest output: " + e.Output + ")"
	}
	return s
}

// Unwrap returns the kind and wazero's error.
func (e *GuestError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func guestErr(err error, ctx context.Context, t *tail, call string) error {
	ge := &GuestError{Kind: streampack.ErrGuestTrap, Call: call, Err: err, Output: guestOutput(t.String())}
	var exit *sys.ExitError
	switch {
	case errors.As(err, &exit) && (exit.ExitCode() == sys.ExitCodeDeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		ge.Kind, ge.Detail = streampack.ErrGuestTimeout, "deadline exceeded"
	case errors.As(err, &exit):
		ge.Kind, ge.Detail = streampack.ErrGuestExit, fmt.Sprintf("exit code %d", exit.ExitCode())
	default:
		first, _, _ := strings.Cut(err.Error(), "\n")
		ge.Detail = first
	}
	return ge
}

// guestOutput picks what explains a failure from a guest's output: the
// Go runtime's "panic:" or "fatal error:" line when there is one, else the
// last lines.
func guestOutput(s string) string {
	lines := strings.Split(s, "\n")
	for _, l := range lines {
		for _, p := range []string{"panic: ", "fatal error: ", "runtime: "} {
			if strings.HasPrefix(l, p) {
				return strings.TrimSpace(l)
			}
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

func abiErr(call, format string, a ...any) error {
	return &GuestError{Kind: streampack.ErrGuestABI, Call: call, Detail: fmt.Sprintf(format, a...)}
}

// Factory makes the kernels of a class the module implements.
func (m *wasmModule) Factory(class string, inputs, types, outputs []string) nodes.Factory {
	names, ts, outs := slices.Clone(inputs), slices.Clone(types), slices.Clone(outputs)
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		return &wasmKernel{mod: m, cfg: cfg, class: class, names: names, types: ts, outTypes: outs}, nil
	}
}

// wasmKernel runs one node in its own module instance.
type wasmKernel struct {
	mod      *wasmModule
	cfg      nodes.Config
	class    string
	names    []string
	types    []string
	outTypes []string

	inst   api.Module
	out    *tail
	mem    api.Memory
	run    api.Function
	stack  [2]uint64
	req    []byte
	inKind []value.Kind
	inPtr  []uint32
	outs   []value.Spec
	outPtr []uint32
	broken bool
}

func (k *wasmKernel) String() string { return k.cfg.String() }

func (k *wasmKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	if len(in) != len(k.names) {
		return nil, fmt.Errorf("want %d inputs, got %d", len(k.names), len(in))
	}
	req := abiRequest{ABI: streampack.ABIVersion, Class: k.class, NodeID: k.cfg.NodeID}
	k.inKind = k.inKind[:0]
	for i, s := range in {
		r := abiInputReq{Name: k.names[i], Kind: s.Kind.String()}
		switch {
		case s.Kind.IsTensor():
			if value.NumElems(s.Shape) == 0 {
				return nil, fmt.Errorf("input %s: empty tensor %s", k.names[i], value.ShapeString(s.Shape))
			}
			r.Shape = s.Shape
		case s.Kind.IsScalar():
			if s.Const != nil {
				switch s.Kind {
				case value.Int:
					r.Const = s.Const.Int
				case value.Float:
					r.Const = s.Const.Float
				case value.String:
					r.Const = s.Const.Str
				case value.Bool:
					r.Const = s.Const.Bool
				}
			} else if s.Kind == value.String {
				return nil, fmt.Errorf("input %s: a STRING input of a WASM node must be known when the plan is built", k.names[i])
			}
		case s.Kind == value.None:
		default:
			return nil, fmt.Errorf("input %s: %s values do not cross into WASM nodes", k.names[i], s.Kind)
		}
		k.inKind = append(k.inKind, s.Kind)
		req.Inputs = append(req.Inputs, r)
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	k.req = data
	k.discard()
	k.broken = false
	if err := k.start(); err != nil {
		return nil, err
	}
	return slices.Clone(k.outs), nil
}

// discard closes the instance.
func (k *wasmKernel) discard() {
	if k.inst != nil {
		k.inst.Close(context.Background())
	}
	k.inst, k.mem, k.run = nil, nil, nil
}

// start instantiates the module and prepares it with k.req. On a restart
// (after a failure) the answer must keep the output specs.
func (k *wasmKernel) start() error {
	ctx := context.Background()
	inst, t, err := k.mod.instantiate(ctx)
	if err != nil {
		return err
	}
	k.inst, k.out, k.mem = inst, t, inst.Memory()
	k.run = inst.ExportedFunction(exportRun)
	fail := func(err error) error { k.discard(); k.broken = true; return err }
	// Request buffer.
	k.stack[0] = uint64(len(k.req))
	if err := k.call(inst.ExportedFunction(exportMalloc), k.mod.prepTimeout, exportMalloc); err != nil {
		return fail(err)
	}
	ptr := uint32(k.stack[0])
	if ptr == 0 || !k.mem.Write(ptr, k.req) {
		return fail(abiErr(exportMalloc, "buffer %#x+%d is outside the guest's memory", ptr, len(k.req)))
	}
	k.stack[0], k.stack[1] = uint64(ptr), uint64(len(k.req))
	if err := k.call(inst.ExportedFunction(exportPrepare), k.mod.prepTimeout, exportPrepare); err != nil {
		return fail(err)
	}
	ans, err := k.answer(exportPrepare, k.stack[0], maxAnswer)
	if err != nil {
		return fail(err)
	}
	var a abiAnswer
	dec := json.NewDecoder(bytes.NewReader(ans))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return fail(abiErr(exportPrepare, "malformed answer: %v", err))
	}
	if a.Error != "" {
		k.discard()
		return errors.New(truncate(a.Error, maxMessage))
	}
	outs, outPtr, inPtr, err := k.checkAnswer(a)
	if err != nil {
		return fail(err)
	}
	if k.broken && !specsSame(outs, k.outs) {
		return fail(abiErr(exportPrepare, "a restarted instance answered other outputs"))
	}
	k.outs, k.outPtr, k.inPtr = outs, outPtr, inPtr
	k.broken = false
	return nil
}

func specsSame(a, b []value.Spec) bool {
	return slices.EqualFunc(a, b, func(x, y value.Spec) bool { return x.SameShape(y) })
}

// checkAnswer checks the buffers and outputs of a prepare answer.
func (k *wasmKernel) checkAnswer(a abiAnswer) (outs []value.Spec, outPtr, inPtr []uint32, err error) {
	size := uint64(k.mem.Size())
	fits := func(ptr uint32, n int) bool { return ptr != 0 && uint64(ptr)+uint64(n) <= size }
	if len(a.Inputs) != len(k.inKind) {
		return nil, nil, nil, abiErr(exportPrepare, "%d input buffers for %d inputs", len(a.Inputs), len(k.inKind))
	}
	req := abiRequest{}
	_ = json.Unmarshal(k.req, &req)
	for i, b := range a.Inputs {
		kind := k.inKind[i]
		switch {
		case kind.IsTensor():
			if !fits(b.Ptr, value.NumElems(req.Inputs[i].Shape)*4) {
				return nil, nil, nil, abiErr(exportPrepare, "input %s: buffer %#x is missing or outside the guest's memory", k.names[i], b.Ptr)
			}
		case kind == value.String || kind == value.None:
			if b.Ptr != 0 {
				return nil, nil, nil, abiErr(exportPrepare, "input %s: %s inputs are not passed per frame (ptr must be 0)", k.names[i], kind)
			}
		default:
			if b.Ptr != 0 && !fits(b.Ptr, 8) {
				return nil, nil, nil, abiErr(exportPrepare, "input %s: slot %#x is outside the guest's memory", k.names[i], b.Ptr)
			}
		}
		inPtr = append(inPtr, b.Ptr)
	}
	if len(a.Outputs) != len(k.outTypes) {
		return nil, nil, nil, abiErr(exportPrepare, "%d outputs, the class declares %d", len(a.Outputs), len(k.outTypes))
	}
	for i, o := range a.Outputs {
		want := value.KindOf(k.outTypes[i])
		if o.Kind != want.String() {
			return nil, nil, nil, abiErr(exportPrepare, "output %d is %s, the class declares %s", i, o.Kind, k.outTypes[i])
		}
		s := value.Spec{Kind: want}
		n := 8
		if want.IsTensor() {
			if want == value.Image {
				if _, _, _, c, ok := value.ImageDims(o.Shape); !ok || c != 3 {
					return nil, nil, nil, abiErr(exportPrepare, "output %d: IMAGE shape %s, want [B,H,W,3]", i, value.ShapeString(o.Shape))
				}
			} else if len(o.Shape) != 3 || value.NumElems(o.Shape) == 0 {
				return nil, nil, nil, abiErr(exportPrepare, "output %d: MASK shape %s, want [B,H,W]", i, value.ShapeString(o.Shape))
			}
			if uint64(value.NumElems(o.Shape))*4 > size {
				return nil, nil, nil, abiErr(exportPrepare, "output %d: shape %s is larger than the guest's memory", i, value.ShapeString(o.Shape))
			}
			s.Shape = slices.Clone(o.Shape)
			n = value.NumElems(o.Shape) * 4
		}
		if !fits(o.Ptr, n) {
			return nil, nil, nil, abiErr(exportPrepare, "output %d: buffer %#x+%d is outside the guest's memory", i, o.Ptr, n)
		}
		outs = append(outs, s)
		outPtr = append(outPtr, o.Ptr)
	}
	return outs, outPtr, inPtr, nil
}

// answer reads a (ptr<<32 | len) result from guest memory.
func (k *wasmKernel) answer(call string, packed uint64, limit int) ([]byte, error) {
	ptr, n := uint32(packed>>32), uint32(packed)
	if int(n) > limit {
		return nil, abiErr(call, "answer of %d bytes (limit %d)", n, limit)
	}
	b, ok := k.mem.Read(ptr, n)
	if !ok {
		return nil, abiErr(call, "answer %#x+%d is outside the guest's memory", ptr, n)
	}
	return b, nil
}

// call calls fn with k.stack under a deadline.
func (k *wasmKernel) call(fn api.Function, timeout time.Duration, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := fn.CallWithStack(ctx, k.stack[:])
	cancel()
	if err != nil {
		return guestErr(err, ctx, k.out, name)
	}
	return nil
}

func (k *wasmKernel) Run(in, out []value.Value) error {
	if k.req == nil {
		return errors.New("not prepared")
	}
	if k.inst == nil {
		// The last call failed: a fresh instance for this frame.
		if err := k.start(); err != nil {
			return fmt.Errorf("restarting the guest: %w", err)
		}
	}
	for i, p := range k.inPtr {
		if p == 0 {
			continue
		}
		v := in[i]
		if v.Kind != k.inKind[i] {
			return fmt.Errorf("input %s: got %s, prepared for %s", k.names[i], v.Kind, k.inKind[i])
		}
		var ok bool
		switch v.Kind {
		case value.Image, value.Mask:
			var b []byte
			if b, ok = k.mem.Read(p, uint32(len(v.Tensor.Data)*4)); ok {
				putFloats(b, v.Tensor.Data)
			}
		case value.Int:
			ok = k.mem.WriteUint64Le(p, uint64(v.Int))
		case value.Float:
			ok = k.mem.WriteFloat64Le(p, v.Float)
		case value.Bool:
			var b uint64
			if v.Bool {
				b = 1
			}
			ok = k.mem.WriteUint64Le(p, b)
		}
		if !ok {
			return k.failed(abiErr(exportRun, "input %s: buffer %#x is outside the guest's memory", k.names[i], p))
		}
	}
	if err := k.call(k.run, k.mod.timeout, exportRun); err != nil {
		return k.failed(err)
	}
	if r := k.stack[0]; r != 0 {
		msg, err := k.answer(exportRun, r, maxMessage)
		if err != nil {
			return k.failed(err)
		}
		return errors.New(string(msg))
	}
	for i, p := range k.outPtr {
		o := &out[i]
		var ok bool
		switch k.outs[i].Kind {
		case value.Image, value.Mask:
			var b []byte
			if b, ok = k.mem.Read(p, uint32(len(o.Tensor.Data)*4)); ok {
				getFloats(o.Tensor.Data, b)
			}
		case value.Int:
			var u uint64
			u, ok = k.mem.ReadUint64Le(p)
			*o = value.OfInt(int64(u))
		case value.Float:
			var f float64
			f, ok = k.mem.ReadFloat64Le(p)
			*o = value.OfFloat(f)
		case value.Bool:
			var u uint64
			u, ok = k.mem.ReadUint64Le(p)
			*o = value.OfBool(u != 0)
		}
		if !ok {
			return k.failed(abiErr(exportRun, "output %d: buffer %#x is outside the guest's memory", i, p))
		}
	}
	return nil
}

// failed discards the instance after a failed call; the next Run starts a
// fresh one.
func (k *wasmKernel) failed(err error) error {
	k.discard()
	k.broken = true
	return err
}

// Close releases the instance.
func (k *wasmKernel) Close() error {
	k.discard()
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
