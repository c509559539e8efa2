package compiler

import (
	"errors"
	"math"
	"strings"
	"testing"

	"comfyrt/graph/diag"
	"comfyrt/internal/testkit"
	"comfyrt/nodes"
	"comfyrt/nodes/schema"
	"comfyrt/nodes/value"
)

const audioPassthrough = `{
 "1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 20}},
 "2": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["1", 0]}}}`

func chunkOf(spec value.Spec, f func(i int) float32) value.Tensor {
	t := value.NewTensor(spec.Shape...)
	for i := range t.Data {
		t.Data[i] = f(i)
	}
	return t
}

func TestAudioPassthroughPlan(t *testing.T) {
	cfg, _ := testConfig(t)
	pl := mustCompile(t, audioPassthrough, cfg)
	if pl.HasFrameInput() || !pl.HasAudioInput() || !pl.HasAudioOutput() || pl.NumOutputs() != 0 {
		t.Fatalf("frame %v, audio in %v out %v, %d frame outputs", pl.HasFrameInput(), pl.HasAudioInput(), pl.HasAudioOutput(), pl.NumOutputs())
	}
	want := value.AudioSpec(1, 1, 960, 48000)
	if s := pl.AudioSpec(); !s.SameShape(want) {
		t.Fatalf("AudioSpec %s, want %s", s, want)
	}
	for run := range 3 {
		chunk := chunkOf(want, func(i int) float32 { return float32(i%97+run) / 100 })
		if err := pl.RunAudio(chunk); err != nil {
			t.Fatal(err)
		}
		out := pl.AudioOutput()
		if out.Kind != value.Audio || out.SampleRate() != 48000 || len(out.Tensor.Data) != 960 {
			t.Fatalf("output %v", out)
		}
		for i, v := range out.Tensor.Data {
			if v != chunk.Data[i] {
				t.Fatalf("run %d sample %d: %g, want %g", run, i, v, chunk.Data[i])
			}
		}
	}
	if err := pl.RunAudio(value.NewTensor(1, 1, 10)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("short chunk: %v", err)
	}
	if s := pl.Explain(); !strings.Contains(s, "why: per-chunk: audio input") || !strings.Contains(s, "AUDIO[1,1,960]@48000Hz") {
		t.Errorf("explain:\n%s", s)
	}
}

// TestAudioCorpusWorkflows compiles ComfyStream's audio workflows and runs
// one chunk through each: the pass-through returns the chunk, the pitch
// shift changes it and keeps its level.
func TestAudioCorpusWorkflows(t *testing.T) {
	cfg, _ := testConfig(t)
	for _, c := range []struct {
		file  string
		equal bool
	}{{"comfystream/audio-passthrough.json", true}, {"comfystream/audio-tensor-utils-example-api.json", false}} {
		p := load(t, c.file, testkit.CorpusRead(t, c.file), cfg)
		pl, err := Compile(p, cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		defer pl.Close()
		spec := pl.AudioSpec()
		if !spec.SameShape(value.AudioSpec(1, 1, 24000, 48000)) {
			t.Fatalf("%s: chunk %s, want 500 ms at 48 kHz mono", c.file, spec)
		}
		chunk := chunkOf(spec, func(i int) float32 { return float32(0.5 * math.Sin(2*math.Pi*440*float64(i)/48000)) })
		if err := pl.RunAudio(chunk); err != nil {
			t.Fatal(err)
		}
		out := pl.AudioOutput().Tensor.Data
		same, energy := true, 0.0
		for i, v := range out {
			same = same && v == chunk.Data[i]
			energy += float64(v) * float64(v)
		}
		if same != c.equal || energy < 1000 {
			t.Errorf("%s: output equal to the input %v (want %v), energy %.0f", c.file, same, c.equal, energy)
		}
	}
}

// TestAudioWithVideo: a plan with a video and an audio path runs each on
// its own call, and the video one never runs the audio steps.
func TestAudioWithVideo(t *testing.T) {
	cfg, c := testConfig(t)
	cfg.Width, cfg.Height = 8, 4
	pl := mustCompile(t, `{
 "1": {"class_type": "LoadTensor", "inputs": {}},
 "2": {"class_type": "CountImage", "inputs": {"image": ["1", 0], "k": 1}},
 "3": {"class_type": "SaveTensor", "inputs": {"images": ["2", 0]}},
 "4": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
 "5": {"class_type": "PitchShifter", "inputs": {"audio": ["4", 0], "pitch_shift": 12}},
 "6": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["5", 0]}}}`, cfg)
	if !pl.HasFrameInput() || !pl.HasAudioInput() || pl.NumOutputs() != 1 {
		t.Fatalf("frame %v audio %v outputs %d", pl.HasFrameInput(), pl.HasAudioInput(), pl.NumOutputs())
	}
	if err := pl.RunFrame(rampFrame(8, 4)); err != nil {
		t.Fatal(err)
	}
	if pl.AudioOutput().Tensor.Data[100] != 0 {
		t.Fatal("RunFrame ran the audio steps")
	}
	chunk := chunkOf(pl.AudioSpec(), func(i int) float32 { return float32(math.Sin(float64(i) / 7)) })
	if err := pl.RunAudio(chunk); err != nil {
		t.Fatal(err)
	}
	if c.runs.Load() != 1 {
		t.Fatalf("CountImage ran %d times, want 1 (RunAudio must not run video steps)", c.runs.Load())
	}
	if pl.AudioOutput().Tensor.Data[100] == 0 {
		t.Fatal("RunAudio left the output silent")
	}
}

func TestAudioContractErrors(t *testing.T) {
	cfg, _ := testConfig(t)
	mix, err := schema.Parse([]byte(`{"MixAV": {"input": {"required": {"image": ["IMAGE"], "audio": ["AUDIO"]}},
  "input_order": {"required": ["image", "audio"]}, "output": ["IMAGE"], "output_is_list": [false], "output_name": ["IMAGE"],
  "name": "MixAV", "output_node": false}}`), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schemas.Merge(mix)
	cfg.Registry.MustRegister("MixAV", func(nodes.Config) (nodes.Kernel, error) { return &countKernel{c: &counters{}}, nil })
	for _, c := range []struct {
		src        string
		code       diag.Code
		node, text string
	}{
		{`{"1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
  "2": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 20}},
  "3": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["1", 0]}},
  "4": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["2", 0]}}}`, diag.IOContract, "", "too many audio"},
		{`{"1": {"class_type": "LoadTensor", "inputs": {}},
  "2": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 10}},
  "3": {"class_type": "MixAV", "inputs": {"image": ["1", 0], "audio": ["2", 0]}},
  "4": {"class_type": "SaveTensor", "inputs": {"images": ["3", 0]}}}`, diag.PrepareFailed, "3", "different clocks"},
		{`{"1": {"class_type": "LoadAudioTensor", "inputs": {"buffer_size": 0}},
  "2": {"class_type": "SaveAudioTensor", "inputs": {"audio": ["1", 0]}}}`, diag.PrepareFailed, "1", "buffer_size"},
	} {
		_, err := Compile(loadString(t, c.src, cfg), cfg)
		var l diag.List
		if !errors.As(err, &l) {
			t.Fatalf("%s: err %v, want a diag.List", c.text, err)
		}
		found := false
		for _, d := range l {
			if d.Code == c.code && (c.node == "" || d.NodeID == c.node) && strings.Contains(d.Message+d.Details, c.text) {
				found = true
			}
		}
		if !found {
			t.Errorf("want %s on node %q mentioning %q, got %v", c.code, c.node, c.text, l)
		}
	}
}
