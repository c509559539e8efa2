package streampack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

// Value kinds a WASM node may take (ABI 1): tensors and scalars; handles
// (LATENT, MODEL…) do not cross the sandbox.
var (
	wasmInputTypes  = []string{"IMAGE", "MASK", "INT", "FLOAT", "BOOLEAN", "STRING", schema.TypeCombo}
	wasmOutputTypes = []string{"IMAGE", "MASK", "INT", "FLOAT", "BOOLEAN"}
)

// packSchemas parses the manifest's classes, checks that their types fit
// their implementation, and names them with the namespace.
func packSchemas(m *Manifest, ns, source string) (*schema.Set, map[string]string, error) {
	if ns != "" && !classRE.MatchString(ns) {
		return nil, nil, fmt.Errorf("namespace %q: want letters, digits, '_', '.', '+' or '-'", ns)
	}
	set, err := schema.Parse(m.Nodes, "pack "+m.Name+" ("+source+")")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: nodes: %v", ErrInvalidManifest, err)
	}
	out := schema.NewSet()
	classes := map[string]string{}
	var errs []string
	for _, n := range set.Nodes() {
		impl := m.Implementations[n.Name]
		ins := slotInputs(n)
		switch {
		case impl.WASM != nil:
			for _, in := range ins {
				if !slices.Contains(wasmInputTypes, in.Type) {
					errs = append(errs, fmt.Sprintf("class %s: input %s has type %s; WASM nodes take %s", n.Name, in.Name, in.Type, strings.Join(wasmInputTypes, ", ")))
				}
			}
			for _, o := range n.Output {
				if !slices.Contains(wasmOutputTypes, o) {
					errs = append(errs, fmt.Sprintf("class %s: output type %s; WASM nodes give %s", n.Name, o, strings.Join(wasmOutputTypes, ", ")))
				}
			}
		case impl.ONNX != nil:
			if len(ins) != 1 || ins[0].Type != "IMAGE" {
				errs = append(errs, fmt.Sprintf("class %s: an ONNX-bound class has exactly one input, an IMAGE", n.Name))
			}
			if len(n.Output) == 0 || len(n.Output) > 2 || (len(n.Output) == 2 && n.Output[0] == n.Output[1]) {
				errs = append(errs, fmt.Sprintf("class %s: an ONNX-bound class outputs IMAGE, MASK, or both", n.Name))
			}
			for _, o := range n.Output {
				if o != "IMAGE" && o != "MASK" {
					errs = append(errs, fmt.Sprintf("class %s: output type %s; an ONNX-bound class outputs IMAGE and/or MASK", n.Name, o))
				}
			}
		}
		name := n.Name
		if ns != "" {
			c := n.Clone()
			c.Name = ns + "." + n.Name
			n, name = c, c.Name
		}
		classes[name] = strings.TrimPrefix(name, ns+".")
		if ns == "" {
			classes[name] = name
		}
		out.Add(n)
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return nil, nil, fmt.Errorf("%w: %s", ErrInvalidManifest, strings.Join(errs, "; "))
	}
	return out, classes, nil
}

// slotInputs are the inputs that have a kernel slot: required then
// optional, in input_order (hidden ones excluded).
func slotInputs(n *schema.Node) []*schema.Input {
	var out []*schema.Input
	for _, sec := range []schema.Section{schema.Required, schema.Optional} {
		out = append(out, n.InputsIn(sec)...)
	}
	return out
}

// Register adds the pack's kernels to r. ONNX-bound classes need the
// generic image-model kernels (ONNXModelLoader, ONNXImageModel) in r
// already (builtin.Register). A class r already has fails with an error
// wrapping ErrDuplicateClass and nodes.ErrDuplicateClass.
func (p *Pack) Register(r *nodes.Registry) error {
	for _, class := range p.Classes() {
		mc := p.classes[class]
		n := p.schemas.Lookup(class)
		impl := p.Manifest.Implementations[mc]
		var f nodes.Factory
		switch {
		case impl.WASM != nil:
			mod := p.modules[impl.WASM.Module]
			if mod == nil {
				return p.fileErr(ManifestFile, fmt.Errorf("class %s: module %s was not compiled (loaded with NoWASM?)", class, impl.WASM.Module))
			}
			var names, types []string
			for _, in := range slotInputs(n) {
				names = append(names, in.Name)
				types = append(types, in.Type)
			}
			f = mod.Factory(mc, names, types, slices.Clone(n.Output))
		case impl.ONNX != nil:
			var err error
			if f, err = p.onnxFactory(r, *impl.ONNX, n); err != nil {
				return p.fileErr(ManifestFile, fmt.Errorf("class %s: %w", class, err))
			}
		}
		if err := r.Register(class, f); err != nil {
			if errors.Is(err, nodes.ErrDuplicateClass) {
				return p.fileErr(ManifestFile, fmt.Errorf("%w: %w (choose a namespace for the pack)", ErrDuplicateClass, err))
			}
			return p.fileErr(ManifestFile, err)
		}
	}
	return nil
}

// Set is several packs loaded together: their classes must not collide.
type Set struct {
	Packs []*Pack
}

// Add adds a pack, refusing it when one of its classes is already defined
// by a pack of the set.
func (s *Set) Add(p *Pack) error {
	for _, q := range s.Packs {
		for _, c := range p.Classes() {
			if _, dup := q.classes[c]; dup {
				return p.fileErr(ManifestFile, fmt.Errorf("%w: class %s is also defined by pack %s (%s); give one of them a namespace", ErrDuplicateClass, c, q.Manifest.Name, q.Source))
			}
		}
	}
	s.Packs = append(s.Packs, p)
	return nil
}

// Schemas returns the classes of every pack.
func (s *Set) Schemas() *schema.Set {
	out := schema.NewSet()
	for _, p := range s.Packs {
		out.Merge(p.schemas)
	}
	return out
}

// Register registers every pack's kernels into r.
func (s *Set) Register(r *nodes.Registry) error {
	for _, p := range s.Packs {
		if err := p.Register(r); err != nil {
			return err
		}
	}
	return nil
}

// Loader loads each pack once and hands the same *Pack to every caller
// (every stream of a server shares it). It is safe for concurrent use.
type Loader struct {
	// Options are used for every load; Namespace is given per Load.
	Options Options
	mu      sync.Mutex
	packs   map[[2]string]*Pack
}

// Load returns the pack at src under namespace ns, loading it the first
// time.
func (l *Loader) Load(src, ns string) (*Pack, error) {
	return l.LoadContext(context.Background(), src, ns)
}

// LoadContext is Load that gives up when ctx is done, as LoadContext does
// (nothing is cached then).
func (l *Loader) LoadContext(ctx context.Context, src, ns string) (*Pack, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, &FileError{Pack: src, Err: err}
	}
	key := [2]string{abs, ns}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.packs[key]; ok {
		return p, nil
	}
	opts := l.Options
	opts.Namespace = ns
	p, err := LoadContext(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	if l.packs == nil {
		l.packs = map[[2]string]*Pack{}
	}
	l.packs[key] = p
	return p, nil
}

// Close closes every loaded pack.
func (l *Loader) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	for k, p := range l.packs {
		err = errors.Join(err, p.Close())
		delete(l.packs, k)
	}
	return err
}

// onnxFactory makes the factory of an ONNX-bound class: it drives the
// registry's ONNXModelLoader and ONNXImageModel kernels with the declared
// pre- and post-processing.
func (p *Pack) onnxFactory(r *nodes.Registry, b ONNXImpl, n *schema.Node) (nodes.Factory, error) {
	loaderF, ok1 := r.Lookup("ONNXModelLoader")
	modelF, ok2 := r.Lookup("ONNXImageModel")
	if !ok1 || !ok2 {
		return nil, errors.New("ONNX bindings need the built-in ONNXModelLoader and ONNXImageModel kernels in the registry")
	}
	md := p.Manifest.Models[b.Model]
	file, err := p.Path(md.File)
	if err != nil {
		return nil, err
	}
	file, err = filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	c := func(v value.Value) value.Spec { return value.ConstSpec(v) }
	loaderIn := []value.Spec{c(value.OfString(file)), c(value.OfString(def(b.Device, "default")))}
	params := []value.Spec{
		c(value.OfInt(int64(b.Width))), c(value.OfInt(int64(b.Height))),
		c(value.OfString(def(b.Layout, "NCHW"))), c(value.OfString(def(b.Channels, "RGB"))),
		c(value.OfString(def(b.Mean, "0,0,0"))), c(value.OfString(def(b.Std, "1,1,1"))),
		c(value.OfString(def(b.OutputScale, "clamp"))),
	}
	outs := slices.Clone(n.Output)
	return func(cfg nodes.Config) (nodes.Kernel, error) {
		inner := cfg
		inner.Widgets = nil
		inner.Class = "ONNXModelLoader"
		lk, err := loaderF(inner)
		if err != nil {
			return nil, err
		}
		inner.Class = "ONNXImageModel"
		mk, err := modelF(inner)
		if err != nil {
			return nil, err
		}
		return &onnxKernel{cfg: cfg, loader: lk, model: mk, loaderIn: loaderIn, params: params, outs: outs}, nil
	}, nil
}

// onnxKernel adapts a pack class (image → IMAGE and/or MASK) to the
// generic image-model kernel.
type onnxKernel struct {
	cfg           nodes.Config
	loader, model nodes.Kernel
	loaderIn      []value.Spec
	params        []value.Spec
	outs          []string
	lout          []value.Value
	min           []value.Value // image, model, params…
	mout          []value.Value // IMAGE, MASK
	pick          []int         // pack output i = mout[pick[i]]
}

func (k *onnxKernel) String() string { return k.cfg.String() }

func (k *onnxKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("want 1 input, got %d", len(in))
	}
	ls, err := nodes.SafePrepare(k.loader, k.loaderIn)
	if err != nil {
		return nil, err
	}
	mspecs := append([]value.Spec{in[0], ls[0]}, k.params...)
	ms, err := nodes.SafePrepare(k.model, mspecs)
	if err != nil {
		return nil, err
	}
	k.lout = []value.Value{value.New(ls[0])}
	k.min = make([]value.Value, len(mspecs))
	for i := 1; i < len(mspecs); i++ {
		k.min[i] = value.New(mspecs[i])
	}
	k.min[1] = *ls[0].Const
	k.mout = []value.Value{value.New(ms[0]), value.New(ms[1])}
	k.pick = k.pick[:0]
	var out []value.Spec
	for _, o := range k.outs {
		i := 0
		if o == "MASK" {
			i = 1
		}
		k.pick = append(k.pick, i)
		out = append(out, ms[i])
	}
	return out, nil
}

func (k *onnxKernel) Run(in, out []value.Value) error {
	if k.min == nil {
		return errors.New("not prepared")
	}
	// The picked outputs are written in place; the other one goes to
	// scratch.
	k.min[0] = in[0]
	saved := [2]value.Value{k.mout[0], k.mout[1]}
	for i, j := range k.pick {
		k.mout[j] = out[i]
	}
	err := k.model.Run(k.min, k.mout)
	k.mout[0], k.mout[1] = saved[0], saved[1]
	k.min[0] = value.Value{}
	return err
}

// Close releases the inner kernels' sessions.
func (k *onnxKernel) Close() error {
	var err error
	for _, c := range []nodes.Kernel{k.model, k.loader} {
		if cl, ok := c.(nodes.Closer); ok {
			err = errors.Join(err, cl.Close())
		}
	}
	return err
}
