package sdmodel

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"comfyrt/nodes/engine"
)

// IO describes a part's tensors as its model declares them (dynamic
// dimensions -1).
type IO struct {
	Inputs, Outputs []engine.TensorInfo
}

// Input returns the declared input of that name.
func (io IO) Input(name string) (engine.TensorInfo, bool) { return find(io.Inputs, name) }

// Output returns the declared output of that name.
func (io IO) Output(name string) (engine.TensorInfo, bool) { return find(io.Outputs, name) }

func find(infos []engine.TensorInfo, name string) (engine.TensorInfo, bool) {
	i := slices.IndexFunc(infos, func(t engine.TensorInfo) bool { return t.Name == name })
	if i < 0 {
		return engine.TensorInfo{}, false
	}
	return infos[i], true
}

// tensorWant is one tensor a part's export has.
type tensorWant struct {
	names []string // accepted names, the export's first
	rank  []int
	ints  bool // int64 allowed (input_ids, timestep)
	float bool // float32/float16 allowed
}

var floats = tensorWant{float: true}

func w(base tensorWant, rank []int, names ...string) tensorWant {
	base.names, base.rank = names, rank
	return base
}

// signatures are the exported parts' inputs and outputs (Optimum's names).
var signatures = map[string]struct{ in, out []tensorWant }{
	TextEncoder: {
		in:  []tensorWant{w(tensorWant{ints: true}, []int{2}, "input_ids")},
		out: []tensorWant{w(floats, []int{3}, "last_hidden_state")},
	},
	UNet: {
		in: []tensorWant{w(floats, []int{4}, "sample"), w(tensorWant{ints: true, float: true}, []int{0, 1}, "timestep"),
			w(floats, []int{3}, "encoder_hidden_states")},
		out: []tensorWant{w(floats, []int{4}, "out_sample")},
	},
	VAEEncoder: {
		in:  []tensorWant{w(floats, []int{4}, "sample")},
		out: []tensorWant{w(floats, []int{4}, "latent_sample", "latent_parameters")},
	},
	VAEDecoder: {
		in:  []tensorWant{w(floats, []int{4}, "latent_sample")},
		out: []tensorWant{w(floats, []int{4}, "sample")},
	},
	ControlNet: {
		in: []tensorWant{w(floats, []int{4}, "sample"), w(tensorWant{ints: true, float: true}, []int{0, 1}, "timestep"),
			w(floats, []int{3}, "encoder_hidden_states"), w(floats, []int{4}, "controlnet_cond")},
		out: []tensorWant{w(floats, []int{4}, "mid_block_res_sample")},
	},
}

// Signature describes a part's expected tensors, for messages:
// "sample, timestep, encoder_hidden_states → out_sample".
func Signature(part string) string {
	s := signatures[part]
	names := func(ws []tensorWant) string {
		var n []string
		for _, x := range ws {
			n = append(n, strings.Join(x.names, " or "))
		}
		return strings.Join(n, ", ")
	}
	return names(s.in) + " → " + names(s.out)
}

// Inspect reads a part's declared tensors from its model and checks the
// names, element types and ranks the export has.
func (m *Model) Inspect(p engine.Provider, part string) (IO, error) {
	return InspectPart(p, part, m.PartPath(part), m.Folder+"/"+part+"/model.onnx")
}

// InspectPart inspects the model file at path as the given part (a VAE
// or TAESD file outside an export folder); name names it in errors.
func InspectPart(p engine.Provider, part, path, name string) (IO, error) {
	sig, ok := signatures[part]
	if !ok {
		return IO{}, fmt.Errorf("unknown part %q", part)
	}
	ins, outs, err := p.Inspect(path)
	if errors.Is(err, engine.ErrUnavailable) {
		return IO{}, err
	}
	if err != nil {
		// The engine's message may hold the path on disk; name the file
		// as the workflow's folder does instead.
		msg := strings.ReplaceAll(err.Error(), path, name)
		if errors.Is(err, fs.ErrNotExist) {
			return IO{}, fmt.Errorf("%s: %w: %s", name, ErrNotFound, msg)
		}
		return IO{}, fmt.Errorf("%s: %s", name, msg)
	}
	io := IO{Inputs: ins, Outputs: outs}
	for _, c := range []struct {
		what  string
		have  []engine.TensorInfo
		wants []tensorWant
	}{{"input", ins, sig.in}, {"output", outs, sig.out}} {
		for _, x := range c.wants {
			if err := x.check(c.what, c.have); err != nil {
				return IO{}, fmt.Errorf("%s: %w; the %s export has %s", name, err, part, Signature(part))
			}
		}
	}
	return io, nil
}

func (x tensorWant) check(what string, have []engine.TensorInfo) error {
	var t engine.TensorInfo
	found := false
	for _, n := range x.names {
		if t, found = find(have, n); found {
			break
		}
	}
	if !found {
		var list []string
		for _, h := range have {
			list = append(list, h.String())
		}
		return fmt.Errorf("no %s %s (the model has %s)", what, strings.Join(x.names, " or "), strings.Join(list, ", "))
	}
	typeOK := (x.ints && t.DType == engine.Int64) || (x.float && (t.DType == engine.Float32 || t.DType == engine.Float16))
	if !typeOK {
		want := "float32 or float16"
		if x.ints && !x.float {
			want = "int64"
		} else if x.ints {
			want = "int64, float32 or float16"
		}
		return fmt.Errorf("%s %s: element type %s, want %s", what, t, t.DType, want)
	}
	if !slices.Contains(x.rank, len(t.Shape)) {
		return fmt.Errorf("%s %s: rank %d, want %v", what, t, len(t.Shape), x.rank)
	}
	return nil
}
