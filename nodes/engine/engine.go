package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"comfyrt/nodes/value"
)

// ErrUnavailable is returned (wrapped) by a Provider that cannot run on
// this machine or build: no cgo, no runtime library.
var ErrUnavailable = errors.New("inference engine unavailable")

// ErrNoLibrary is wrapped, besides ErrUnavailable, by a Provider whose
// runtime library file is not found on this machine, so that callers can
// say so without repeating the error's text (which names the folders
// looked in).
var ErrNoLibrary = errors.New("library not found")

// DType is the element type of a model input or output.
type DType uint8

// Element types. Sessions exchange Float32, Float16 (as float32 data,
// converted at the session boundary) and Int64 tensors; the others are
// reported by Inputs and Outputs so that errors can name them, and a
// Provider refuses to open a model that has one (CheckDTypes).
const (
	Undefined DType = iota
	Float32
	Float16
	Float64
	Int64
	Int32
	Int8
	Uint8
	Bool
	Other
)

var dtypeNames = [...]string{"undefined", "float32", "float16", "float64", "int64", "int32", "int8", "uint8", "bool", "other"}

// String returns "float32", "int64", …
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// TensorInfo declares one input or output of a model.
type TensorInfo struct {
	Name  string
	DType DType
	// Shape holds the dimensions; -1 marks a dynamic dimension in a
	// model's declaration. A Session's Inputs and Outputs are concrete.
	Shape []int
}

// String formats the info as `x float32[1,3,-1,-1]`.
func (t TensorInfo) String() string {
	return t.Name + " " + t.DType.String() + value.ShapeString(t.Shape)
}

// Dynamic reports whether a dimension is not fixed.
func (t TensorInfo) Dynamic() bool {
	return slices.ContainsFunc(t.Shape, func(d int) bool { return d < 0 })
}

// Tensor is a named tensor handed to or filled by a Session. Float32 and
// Float16 tensors carry their elements in Data (float32 on the graph side;
// a session converts Float16 at its boundary); Int64 tensors carry them in
// Int64, and Data is unused.
type Tensor struct {
	// Name is the model's input or output name; empty means "the one at
	// this position".
	Name string
	value.Tensor
	// Int64 holds the elements of an Int64 tensor.
	Int64 []int64
}

// Supported reports whether sessions exchange tensors of this type.
func (d DType) Supported() bool { return d == Float32 || d == Float16 || d == Int64 }

// CheckDTypes returns an error naming the first tensor whose element type
// sessions cannot exchange.
func CheckDTypes(what string, infos []TensorInfo) error {
	for _, in := range infos {
		if !in.DType.Supported() {
			return fmt.Errorf("%s %s is %s; only float32, float16 and int64 tensors are supported", what, in, in.DType)
		}
	}
	return nil
}

// NewBuffers allocates one zeroed tensor per info, its elements in Data
// (Float32, Float16) or Int64 (Int64).
func NewBuffers(infos []TensorInfo) []Tensor {
	b := make([]Tensor, len(infos))
	for i, in := range infos {
		b[i].Name = in.Name
		b[i].Shape = slices.Clone(in.Shape)
		if in.DType == Int64 {
			b[i].Int64 = make([]int64, value.NumElems(in.Shape))
		} else {
			b[i].Data = make([]float32, value.NumElems(in.Shape))
		}
	}
	return b
}

// Session is one model loaded for fixed input shapes.
type Session interface {
	// Inputs and Outputs describe the model's tensors with concrete
	// shapes, in the model's order. The slices are the session's own:
	// callers must not modify them.
	Inputs() []TensorInfo
	Outputs() []TensorInfo
	// Run computes the outputs from the inputs. in[i] and out[i] match
	// Inputs()[i] and Outputs()[i]: same element count, and the same name
	// unless the name is empty. Data is copied into the engine and back,
	// except where a tensor's Data is the session's own buffer
	// (Buffers), which costs no copy. Run does not allocate in steady
	// state. A Session is not safe for concurrent Runs.
	Run(in, out []Tensor) error
	// Close releases the session; a closed session returns an error from
	// Run. Close is idempotent.
	Close() error
}

// Buffers is implemented by sessions that run on buffers of their own
// (ONNX Runtime's preallocated tensors). A kernel may write the input in
// place and read the output in place, and pass these very tensors to Run.
type Buffers interface {
	InputBuffers() []Tensor
	OutputBuffers() []Tensor
}

// Device names, for Options.Devices.
const (
	CPU      = "cpu"
	CUDA     = "cuda"
	TensorRT = "tensorrt"
)

// Options configure how a Provider opens a model.
type Options struct {
	// Devices are the execution providers in preference order ("cpu",
	// "cuda", "tensorrt"); empty means {"cpu"}. Without "cpu" in the list,
	// a node that no listed device can run is an error rather than a
	// silent fall-back to the CPU.
	Devices []string
	// DeviceID selects the GPU for cuda and tensorrt.
	DeviceID int
	// IntraOpThreads is the number of threads one Run may use; 0 means
	// runtime.NumCPU().
	IntraOpThreads int
	// NoSpin stops idle worker threads from spinning between Runs (less
	// CPU burnt, somewhat higher latency).
	NoSpin bool
	// Shapes gives the concrete shape of inputs with dynamic dimensions,
	// by input name. An input with a dynamic dimension that is not listed
	// is an error; a listed shape must agree with the model's fixed
	// dimensions.
	Shapes map[string][]int
	// CacheDir is the root folder of compiled-engine caches (TensorRT);
	// a session uses the subfolder CacheKey(...). Empty disables caching.
	CacheDir string
	// Exclusive: never share the loaded model with other sessions. By
	// default a Provider may share one loaded model between sessions
	// opened from the same content with the same options; each session
	// keeps its own buffers.
	Exclusive bool
}

// Threads returns IntraOpThreads, or the core count when it is 0.
func (o Options) Threads() int {
	if o.IntraOpThreads > 0 {
		return o.IntraOpThreads
	}
	return runtime.NumCPU()
}

// DeviceList returns Devices, or {"cpu"} when empty, checked: each known,
// none twice.
func (o Options) DeviceList() ([]string, error) {
	if len(o.Devices) == 0 {
		return []string{CPU}, nil
	}
	seen := map[string]bool{}
	for _, d := range o.Devices {
		switch d {
		case CPU, CUDA, TensorRT:
		default:
			return nil, fmt.Errorf("unknown device %q (want cpu, cuda or tensorrt)", d)
		}
		if seen[d] {
			return nil, fmt.Errorf("device %q listed twice", d)
		}
		seen[d] = true
	}
	return o.Devices, nil
}

// ParseDevices splits a "--device" value ("cuda,cpu") into a device list.
func ParseDevices(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(strings.ToLower(f)); f != "" {
			out = append(out, f)
		}
	}
	_, err := Options{Devices: out}.DeviceList()
	return out, err
}

// Provider opens models. Implementations are safe for concurrent use.
type Provider interface {
	// Name identifies the implementation and its runtime version
	// ("onnxruntime 1.30.0", "fake").
	Name() string
	// Inspect returns a model's declared inputs and outputs (dynamic
	// dimensions are -1) without preparing it to run.
	Inspect(path string) (inputs, outputs []TensorInfo, err error)
	// Open loads the model file at path for the given options.
	Open(path string, opts Options) (Session, error)
}

// BindShapes resolves a model's declared inputs against Options.Shapes and
// returns concrete infos. Implementations share it so that they agree on
// the rules.
func BindShapes(declared []TensorInfo, shapes map[string][]int) ([]TensorInfo, error) {
	known := map[string]bool{}
	out := make([]TensorInfo, len(declared))
	for i, d := range declared {
		known[d.Name] = true
		s, given := shapes[d.Name]
		switch {
		case !given && d.Dynamic():
			return nil, fmt.Errorf("input %s has dynamic dimensions: give its shape in Options.Shapes", d)
		case !given:
			s = d.Shape
		case len(s) != len(d.Shape):
			return nil, fmt.Errorf("input %s: shape %s has the wrong rank", d, value.ShapeString(s))
		}
		for j, v := range s {
			if v < 1 || (d.Shape[j] >= 0 && d.Shape[j] != v) {
				return nil, fmt.Errorf("input %s: shape %s does not fit", d, value.ShapeString(s))
			}
		}
		out[i] = TensorInfo{Name: d.Name, DType: d.DType, Shape: slices.Clone(s)}
	}
	for name := range shapes {
		if !known[name] {
			return nil, fmt.Errorf("Options.Shapes names %q, which is not an input of the model", name)
		}
	}
	return out, nil
}

// CheckRun checks Run's arguments against a session's infos: counts,
// names and element counts (of Int64 for Int64 tensors, of Data
// otherwise). It does not allocate.
func CheckRun(ins, outs []TensorInfo, in, out []Tensor) error {
	if len(in) != len(ins) || len(out) != len(outs) {
		return fmt.Errorf("run: got %d inputs and %d outputs, the model has %d and %d", len(in), len(out), len(ins), len(outs))
	}
	for i := range in {
		if err := checkOne("input", ins[i], in[i]); err != nil {
			return err
		}
	}
	for i := range out {
		if err := checkOne("output", outs[i], out[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkOne(what string, info TensorInfo, t Tensor) error {
	if t.Name != "" && t.Name != info.Name {
		return fmt.Errorf("run: %s %q given where the model has %q", what, t.Name, info.Name)
	}
	n := len(t.Data)
	if info.DType == Int64 {
		n = len(t.Int64)
	}
	if n != value.NumElems(info.Shape) {
		return fmt.Errorf("run: %s %s: %d elements, want %d", what, info, n, value.NumElems(info.Shape))
	}
	return nil
}

// SameInts reports whether two int64 slices are the same memory.
func SameInts(a, b []int64) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// SameBuffer reports whether two float32 slices are the same memory.
func SameBuffer(a, b []float32) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// CopyData copies src's elements into dst, the int64 ones when dst holds
// int64 and the float32 ones otherwise; a tensor that already is the
// other's memory is not copied. Both have the same type and length.
func CopyData(dst, src Tensor) {
	switch {
	case dst.Int64 != nil:
		if !SameInts(dst.Int64, src.Int64) {
			copy(dst.Int64, src.Int64)
		}
	case !SameBuffer(dst.Data, src.Data):
		copy(dst.Data, src.Data)
	}
}

// CacheTarget is what a compiled engine is built for, besides the model
// and its input shapes: an engine from one card, runtime or TensorRT
// release must never be loaded on another.
type CacheTarget struct {
	// Device is the execution provider ("tensorrt").
	Device string
	// Runtime is the inference runtime's version ("1.30.0").
	Runtime string
	// GPU is the GPU architecture: compute capability and device name
	// ("sm_90 NVIDIA H100 80GB HBM3").
	GPU string
	// TensorRT is the TensorRT library's version ("100300").
	TensorRT string
}

// CacheKey names the engine-cache folder of a model compiled for a target:
// the hex sha256 of the model's sha256, the bound input shapes (sorted by
// name) and every field of the target. It is 32 hex characters.
func CacheKey(modelSHA256 string, inputs []TensorInfo, t CacheTarget) string {
	ins := slices.Clone(inputs)
	slices.SortFunc(ins, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	fmt.Fprintf(h, "comfyrt-engine-cache v2\nmodel %s\ndevice %q\nruntime %q\ngpu %q\ntensorrt %q\n",
		strings.ToLower(modelSHA256), t.Device, t.Runtime, t.GPU, t.TensorRT)
	for _, in := range ins {
		fmt.Fprintf(h, "input %q %s %s\n", in.Name, in.DType, value.ShapeString(in.Shape))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
