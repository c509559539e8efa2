//go:build cgo

package ort

// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #include "probe.h"
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"comfyrt/nodes/engine"

	ort "github.com/yalue/onnxruntime_go"
)

// env is the process-global ONNX Runtime environment.
var env struct {
	mu      sync.Mutex
	done    bool // CheckInit ran
	err     error
	libPath string
	live    int // engine sessions open or being opened
}

// CheckInit loads the ONNX Runtime library and creates the process-global
// environment, once; every call returns the result of the first. The error
// wraps engine.ErrUnavailable when the library is missing or unusable.
func CheckInit() error {
	env.mu.Lock()
	defer env.mu.Unlock()
	return checkInitLocked()
}

func checkInitLocked() error {
	if env.done {
		return env.err
	}
	env.done = true
	p, err := LibraryPath()
	if err != nil {
		env.err = fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
		return env.err
	}
	ort.SetSharedLibraryPath(p)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		env.err = fmt.Errorf("%w: loading %s: %w", engine.ErrUnavailable, p, err)
		return env.err
	}
	env.libPath = p
	return nil
}

// shutdown destroys the environment. It fails while sessions are open or
// being opened; after it, CheckInit may initialise again.
func shutdown() error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if !env.done || env.err != nil {
		env.done, env.err = false, nil
		return nil
	}
	if env.live > 0 {
		return fmt.Errorf("onnxruntime: shutdown with %d sessions open", env.live)
	}
	// Every reference is held by a counted session; this is a safeguard.
	if models, refs := sharedSessions(); models > 0 {
		return fmt.Errorf("onnxruntime: shutdown with %d shared sessions (%d references)", models, refs)
	}
	env.done = false
	return ort.DestroyEnvironment()
}

// Provider is the ONNX Runtime engine.Provider. It holds no state: every
// Provider shares the package's environment.
type Provider struct{}

// New returns the provider.
func New() *Provider { return &Provider{} }

// Name returns "onnxruntime <version>" (the loaded library's version once
// initialised).
func (p *Provider) Name() string {
	if CheckInit() != nil {
		return "onnxruntime " + Version + " (unavailable)"
	}
	return "onnxruntime " + ort.GetVersion()
}

// Open loads the model at path; see the package documentation.
func (p *Provider) Open(path string, opts engine.Options) (engine.Session, error) {
	s, err := open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("onnxruntime: %s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// Inspect returns the model's declared inputs and outputs.
func (p *Provider) Inspect(path string) (inputs, outputs []engine.TensorInfo, err error) {
	if err := CheckInit(); err != nil {
		return nil, nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("onnxruntime: %w", err)
	}
	inputs, outputs, err = modelInfo(path)
	if err != nil {
		return nil, nil, fmt.Errorf("onnxruntime: %s: %w", filepath.Base(path), err)
	}
	return inputs, outputs, nil
}

func open(path string, opts engine.Options) (_ *session, err error) {
	devices, err := opts.DeviceList()
	if err != nil {
		return nil, err
	}
	// The session counts from here on, so that shutdown fails while it
	// is being opened.
	env.mu.Lock()
	if err = checkInitLocked(); err == nil {
		env.live++
	}
	env.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s := &session{counted: true}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	declIn, declOut, err := declared(sum, path)
	if err != nil {
		return nil, err
	}
	if err := engine.CheckDTypes("input", declIn); err != nil {
		return nil, err
	}
	if err := engine.CheckDTypes("output", declOut); err != nil {
		return nil, err
	}
	if s.ins, err = engine.BindShapes(declIn, opts.Shapes); err != nil {
		return nil, err
	}
	if s.inT, s.inBuf, s.inH, err = s.alloc(s.ins); err != nil {
		return nil, err
	}
	key := sessionKey(sum, devices, s.ins, opts)
	s.sh, err = acquire(key, opts.Exclusive, sum, declIn, declOut, func(sh *shared) error {
		return s.create(sh, data, sum, declIn, declOut, devices, opts)
	})
	if err != nil {
		return nil, err
	}
	if err := s.bindOutputs(); err != nil {
		return nil, err
	}
	return s, nil
}

// create makes the shared ORT session of the model data for s's bound
// input shapes, with probe casts on float16 outputs (see probeNames), and
// reads its output shapes.
func (s *session) create(sh *shared, data []byte, sum [32]byte, declIn, declOut []engine.TensorInfo, devices []string, opts engine.Options) error {
	so, err := sessionOptions(hex.EncodeToString(sum[:]), s.ins, devices, opts)
	if err != nil {
		return err
	}
	defer so.Destroy()
	model, outNames := data, names(declOut)
	if pn, cast := probeNames(declOut); cast {
		model, outNames = withProbeCasts(data, declOut), pn
	}
	dyn, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names(declIn), outNames, so)
	if err != nil {
		return deviceError(devices, err)
	}
	outs, err := outputShapes(dyn, s.inT, declOut)
	if err != nil {
		dyn.Destroy()
		return err
	}
	sh.dyn, sh.outs = dyn, outs
	return nil
}

// bindOutputs allocates s's output tensors and binds every input and
// output tensor to the shared session.
func (s *session) bindOutputs() (err error) {
	s.outs = make([]engine.TensorInfo, len(s.sh.outs))
	for i, o := range s.sh.outs {
		s.outs[i] = engine.TensorInfo{Name: o.Name, DType: o.DType, Shape: slices.Clone(o.Shape)}
	}
	if s.outT, s.outBuf, s.outH, err = s.alloc(s.outs); err != nil {
		return err
	}
	if s.bind, err = s.sh.dyn.CreateIoBinding(); err != nil {
		return err
	}
	for i, t := range s.inT {
		if err := s.bind.BindInput(s.ins[i].Name, t); err != nil {
			return fmt.Errorf("binding input %s: %w", s.ins[i].Name, err)
		}
	}
	for i, t := range s.outT {
		if err := s.bind.BindOutput(s.outs[i].Name, t); err != nil {
			return fmt.Errorf("binding output %s: %w", s.outs[i].Name, err)
		}
	}
	return nil
}

// modelInfo reads the model's declared inputs and outputs with a
// throw-away session that skips graph optimisation.
func modelInfo(path string) (ins, outs []engine.TensorInfo, err error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, nil, err
	}
	defer so.Destroy()
	if err := so.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
		return nil, nil, err
	}
	if err := so.SetIntraOpNumThreads(1); err != nil {
		return nil, nil, err
	}
	i, o, err := ort.GetInputOutputInfoWithOptions(path, so)
	if err != nil {
		return nil, nil, err
	}
	ins, err = infos("input", i)
	if err != nil {
		return nil, nil, err
	}
	outs, err = infos("output", o)
	return ins, outs, err
}

func infos(what string, list []ort.InputOutputInfo) ([]engine.TensorInfo, error) {
	out := make([]engine.TensorInfo, len(list))
	for k, x := range list {
		if x.OrtValueType != ort.ONNXTypeTensor {
			return nil, fmt.Errorf("%s %s is a %s; only tensors are supported", what, x.Name, x.OrtValueType)
		}
		shape := make([]int, len(x.Dimensions))
		for j, d := range x.Dimensions {
			shape[j] = int(d)
			if d < 0 {
				shape[j] = -1
			}
		}
		out[k] = engine.TensorInfo{Name: x.Name, DType: dtype(x.DataType), Shape: shape}
	}
	return out, nil
}

func dtype(t ort.TensorElementDataType) engine.DType {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return engine.Float32
	case ort.TensorElementDataTypeFloat16:
		return engine.Float16
	case ort.TensorElementDataTypeDouble:
		return engine.Float64
	case ort.TensorElementDataTypeInt64:
		return engine.Int64
	case ort.TensorElementDataTypeInt32:
		return engine.Int32
	case ort.TensorElementDataTypeInt8:
		return engine.Int8
	case ort.TensorElementDataTypeUint8:
		return engine.Uint8
	case ort.TensorElementDataTypeBool:
		return engine.Bool
	}
	return engine.Other
}

func names(infos []engine.TensorInfo) []string {
	n := make([]string, len(infos))
	for i, x := range infos {
		n[i] = x.Name
	}
	return n
}

// sessionOptions sets threads, spinning and the execution providers in
// preference order.
func sessionOptions(modelSHA256 string, ins []engine.TensorInfo, devices []string, opts engine.Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			so.Destroy()
		}
	}()
	if err := so.SetIntraOpNumThreads(opts.Threads()); err != nil {
		return nil, err
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, err
	}
	spin := "1"
	if opts.NoSpin {
		spin = "0"
	}
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin); err != nil {
		return nil, err
	}
	hasCPU := false
	for _, d := range devices {
		var err error
		switch d {
		case engine.CPU:
			hasCPU = true
		case engine.CUDA:
			err = appendCUDA(so, devices, opts)
		case engine.TensorRT:
			err = appendTensorRT(so, modelSHA256, ins, devices, opts)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasCPU {
		if err := so.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1"); err != nil {
			return nil, err
		}
	}
	ok = true
	return so, nil
}

// appendCUDA appends the CUDA execution provider on opts' device.
func appendCUDA(so *ort.SessionOptions, devices []string, opts engine.Options) error {
	if err := checkProviderLibs(engine.CUDA); err != nil {
		return err
	}
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return deviceError(devices, err)
	}
	defer co.Destroy()
	err = co.Update(map[string]string{"device_id": strconv.Itoa(opts.DeviceID)})
	if err == nil {
		err = so.AppendExecutionProviderCUDA(co)
	}
	if err != nil {
		return deviceError(devices, err)
	}
	return nil
}

// appendTensorRT appends the TensorRT execution provider on opts' device,
// with its engine cache in the folder of the model, input shapes and
// target (engine.CacheKey) under opts.CacheDir when that is set.
func appendTensorRT(so *ort.SessionOptions, modelSHA256 string, ins []engine.TensorInfo, devices []string, opts engine.Options) error {
	if err := checkProviderLibs(engine.TensorRT); err != nil {
		return err
	}
	to, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return deviceError(devices, err)
	}
	defer to.Destroy()
	m := map[string]string{"device_id": strconv.Itoa(opts.DeviceID)}
	if opts.CacheDir != "" {
		target, err := cacheTarget(opts.DeviceID)
		if err != nil {
			return fmt.Errorf("tensorrt engine cache: %w", err)
		}
		dir := filepath.Join(opts.CacheDir, engine.CacheKey(modelSHA256, ins, target))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("tensorrt engine cache: %w", err)
		}
		m["trt_engine_cache_enable"] = "1"
		m["trt_engine_cache_path"] = dir
	}
	err = to.Update(m)
	if err == nil {
		err = so.AppendExecutionProviderTensorRT(to)
	}
	if err != nil {
		return deviceError(devices, err)
	}
	return nil
}

// ErrDevice is returned (wrapped) when a requested GPU execution provider
// cannot be used on this machine.
var ErrDevice = errors.New("execution provider unavailable")

// checkProviderLibs names the files a GPU device needs that are missing.
func checkProviderLibs(device string) error {
	dir := filepath.Dir(env.libPath)
	need := []string{"libonnxruntime_providers_shared.so"}
	if device == engine.CUDA {
		need = append(need, "libonnxruntime_providers_cuda.so")
	} else {
		need = append(need, "libonnxruntime_providers_tensorrt.so")
	}
	var missing []string
	for _, n := range need {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: device %s needs ONNX Runtime's %s next to %s (the npm library ships without GPU provider libraries; see shared/tools/gpu-ort-kit)",
			ErrDevice, device, strings.Join(missing, " and "), env.libPath)
	}
	if !probe("libcuda.so.1") {
		return fmt.Errorf("%w: device %s needs the NVIDIA driver library libcuda.so.1, which the dynamic loader cannot find (no GPU driver on this machine?)", ErrDevice, device)
	}
	if device == engine.TensorRT && !probe("libnvinfer.so.10") && !probe("libnvinfer.so.8") && !probe("libnvinfer.so") {
		return fmt.Errorf("%w: device tensorrt needs TensorRT's libnvinfer (libnvinfer.so.10), which the dynamic loader cannot find; add its folder to LD_LIBRARY_PATH or use --device cuda", ErrDevice)
	}
	return nil
}

// cacheTarget is what a TensorRT engine compiled on GPU deviceID is built
// for: the card (compute capability and name, from the CUDA driver) and
// the TensorRT and ONNX Runtime versions.
func cacheTarget(deviceID int) (engine.CacheTarget, error) {
	major, minor, name, err := gpuArch(deviceID)
	if err != nil {
		return engine.CacheTarget{}, err
	}
	trt := int(C.tensorrt_version())
	if trt < 0 {
		return engine.CacheTarget{}, errors.New("cannot read the TensorRT version: no libnvinfer with getInferLibVersion")
	}
	return gpuTarget(major, minor, name, trt, ort.GetVersion()), nil
}

// gpuArch reads the compute capability and name of GPU deviceID from the
// CUDA driver.
func gpuArch(deviceID int) (major, minor int, name string, err error) {
	var cmaj, cmin C.int
	var cname [256]C.char
	switch rc := C.gpu_arch(C.int(deviceID), &cmaj, &cmin, &cname[0], C.int(len(cname))); rc {
	case 0:
		return int(cmaj), int(cmin), C.GoString(&cname[0]), nil
	case -1:
		return 0, 0, "", fmt.Errorf("cannot identify GPU %d: the dynamic loader cannot open the NVIDIA driver library libcuda.so.1", deviceID)
	case -2:
		return 0, 0, "", fmt.Errorf("cannot identify GPU %d: libcuda.so.1 lacks the CUDA driver API", deviceID)
	default:
		return 0, 0, "", fmt.Errorf("cannot identify GPU %d: CUDA driver error %d", deviceID, int(rc))
	}
}

// gpuTarget composes the cache target of a TensorRT engine from what
// cacheTarget reads.
func gpuTarget(major, minor int, gpuName string, trtVersion int, runtimeVersion string) engine.CacheTarget {
	return engine.CacheTarget{
		Device:   engine.TensorRT,
		Runtime:  runtimeVersion,
		GPU:      fmt.Sprintf("sm_%d%d %s", major, minor, strings.TrimSpace(gpuName)),
		TensorRT: strconv.Itoa(trtVersion),
	}
}

func probe(name string) bool {
	c := C.CString(name)
	defer C.free(unsafe.Pointer(c))
	return C.probe_lib(c) != 0
}

// deviceError adds what a GPU device needs to ONNX Runtime's own message
// (which names the library the loader could not open).
func deviceError(devices []string, err error) error {
	for _, d := range devices {
		if d == engine.CUDA || d == engine.TensorRT {
			return fmt.Errorf("%w: devices %v: %w (cuda needs the CUDA 12 runtime, cuBLAS and cuDNN 9 libraries on LD_LIBRARY_PATH; tensorrt needs libnvinfer too)", ErrDevice, devices, err)
		}
	}
	return err
}

// session is one engine session: a reference to a loaded model, which it
// may share with other sessions, and its own C-memory buffers and I/O
// binding. It is not safe for concurrent use; distinct sessions may Run
// concurrently, sharing a model or not.
type session struct {
	sh            *shared
	bind          *ort.IoBinding
	ins, outs     []engine.TensorInfo
	inT, outT     []ort.Value
	inBuf, outBuf []engine.Tensor
	// inH and outH are the C memory of Float16 tensors (nil for the
	// others), whose inBuf/outBuf Data is a float32 staging buffer.
	inH, outH [][]uint16
	cmem      []unsafe.Pointer
	counted   bool
	closed    bool
}

// alloc makes one tensor per info over zeroed C memory: float32 and
// int64 tensors are the buffers themselves; a float16 tensor gets a
// float32 staging buffer, converted at Run.
func (s *session) alloc(infos []engine.TensorInfo) ([]ort.Value, []engine.Tensor, [][]uint16, error) {
	ts := make([]ort.Value, len(infos))
	bufs := make([]engine.Tensor, len(infos))
	halves := make([][]uint16, len(infos))
	for i, in := range infos {
		n := 1
		shape := make(ort.Shape, len(in.Shape))
		for j, d := range in.Shape {
			n *= d
			shape[j] = int64(d)
		}
		size := 4
		switch in.DType {
		case engine.Int64:
			size = 8
		case engine.Float16:
			size = 2
		}
		p := C.calloc(C.size_t(max(n, 1)), C.size_t(size))
		if p == nil {
			return nil, nil, nil, fmt.Errorf("out of memory for %s", in)
		}
		s.cmem = append(s.cmem, p)
		bufs[i] = engine.Tensor{Name: in.Name}
		bufs[i].Shape = append([]int(nil), in.Shape...)
		var err error
		switch in.DType {
		case engine.Int64:
			bufs[i].Int64 = unsafe.Slice((*int64)(p), n)
			ts[i], err = ort.NewTensor(shape, bufs[i].Int64)
		case engine.Float16:
			halves[i] = unsafe.Slice((*uint16)(p), n)
			bufs[i].Data = make([]float32, n)
			ts[i], err = ort.NewCustomDataTensor(shape, unsafe.Slice((*byte)(p), 2*n), ort.TensorElementDataTypeFloat16)
		default:
			bufs[i].Data = unsafe.Slice((*float32)(p), n)
			ts[i], err = ort.NewTensor(shape, bufs[i].Data)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("tensor %s: %w", in, err)
		}
	}
	return ts, bufs, halves, nil
}

// outputShapes returns the outputs' concrete shapes, running the model
// once on the (zeroed) inputs when a declared dimension is dynamic.
func outputShapes(dyn *ort.DynamicAdvancedSession, inT []ort.Value, declared []engine.TensorInfo) ([]engine.TensorInfo, error) {
	dynamic := false
	for _, d := range declared {
		dynamic = dynamic || d.Dynamic()
	}
	if !dynamic {
		return declared, nil
	}
	out := make([]ort.Value, len(declared))
	if err := dyn.Run(inT, out); err != nil {
		return nil, fmt.Errorf("probe run for the output shapes: %w", err)
	}
	res := make([]engine.TensorInfo, len(declared))
	for i, v := range out {
		shape := v.GetShape()
		v.Destroy()
		res[i] = engine.TensorInfo{Name: declared[i].Name, DType: declared[i].DType, Shape: make([]int, len(shape))}
		for j, d := range shape {
			res[i].Shape[j] = int(d)
		}
	}
	return res, nil
}

func (s *session) Inputs() []engine.TensorInfo    { return s.ins }
func (s *session) Outputs() []engine.TensorInfo   { return s.outs }
func (s *session) InputBuffers() []engine.Tensor  { return s.inBuf }
func (s *session) OutputBuffers() []engine.Tensor { return s.outBuf }

var errClosed = errors.New("onnxruntime: session closed")

// Run copies the inputs in (unless they are the session's buffers),
// converting float16 ones, runs the model on its bound tensors and copies
// the outputs out. It allocates nothing unless it fails.
func (s *session) Run(in, out []engine.Tensor) error {
	if s.closed {
		return errClosed
	}
	if err := engine.CheckRun(s.ins, s.outs, in, out); err != nil {
		return err
	}
	for i, t := range in {
		copyIn(s.inBuf[i], s.inH[i], t)
	}
	if err := s.sh.dyn.RunWithBinding(s.bind); err != nil {
		return fmt.Errorf("onnxruntime: run: %w", err)
	}
	for i, t := range out {
		copyOut(t, s.outBuf[i], s.outH[i])
	}
	return nil
}

// copyIn fills a session buffer (and its float16 memory h, when the
// tensor is float16) from t.
func copyIn(buf engine.Tensor, h []uint16, t engine.Tensor) {
	if h != nil {
		engine.ToFloat16(h, t.Data)
		return
	}
	engine.CopyData(buf, t)
}

// copyOut fills t from a session buffer (from its float16 memory h, when
// the tensor is float16).
func copyOut(t, buf engine.Tensor, h []uint16) {
	if h != nil {
		engine.FromFloat16(t.Data, h)
		return
	}
	engine.CopyData(t, buf)
}

// Close releases the session's binding, tensors and their memory, and
// its reference to the model, which is destroyed with the last one.
func (s *session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.release()
	if s.counted {
		s.counted = false
		env.mu.Lock()
		env.live--
		env.mu.Unlock()
	}
	return nil
}

// release frees what open made so far, in reverse order.
func (s *session) release() {
	if s.bind != nil {
		s.bind.Destroy()
		s.bind = nil
	}
	for _, t := range append(s.inT, s.outT...) {
		if t != nil {
			t.Destroy()
		}
	}
	s.inT, s.outT, s.inBuf, s.outBuf, s.inH, s.outH = nil, nil, nil, nil, nil, nil
	for _, p := range s.cmem {
		C.free(p)
	}
	s.cmem = nil
	if s.sh != nil {
		s.sh.unref()
		s.sh = nil
	}
}
