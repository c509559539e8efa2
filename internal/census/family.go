package census

import (
	"regexp"

	"comfyrt/nodes/schema"
)

// Families, in the order the table lists them.
var Families = []string{"image FX", "depth", "diffusion", "segmentation", "audio", "text", "other"}

// familyRules decide a workflow's family from its classes, first match
// wins: a class name matching re, or a class whose schema uses one of the
// types (inputs or outputs).
var familyRules = []struct {
	family string
	re     *regexp.Regexp
	types  []string
}{
	{"audio", regexp.MustCompile(`Audio|PitchShift|Transcription|Whisper|SRT`), []string{"AUDIO", "WAVEFORM"}},
	{"diffusion", regexp.MustCompile(`KSampler|Sampler|StreamDiffusion|TensorRTLoader|TRT_MODEL|ControlNetTRT|CheckpointLoader|UNETLoader`),
		[]string{"LATENT", "MODEL", "CONDITIONING"}},
	{"segmentation", regexp.MustCompile(`SAM2|Sam2|Segment|Florence2|BiRefNet|RemBG|Rembg`), nil},
	{"depth", regexp.MustCompile(`Depth`), nil},
	{"other", regexp.MustCompile(`LivePortrait|FaceMesh|Portrait`), nil},
	{"text", regexp.MustCompile(`TextTensor|TextRenderer|MultilineText|TextDetection`), nil},
	{"image FX", nil, []string{"IMAGE", "MASK"}},
}

// Family classifies a workflow by its classes (s gives the types of the
// known ones).
func Family(classes []string, s *schema.Set) string {
	for _, r := range familyRules {
		for _, c := range classes {
			if r.re != nil && r.re.MatchString(c) {
				return r.family
			}
			if n := s.Lookup(c); n != nil && len(r.types) > 0 && usesType(n, r.types) {
				return r.family
			}
		}
	}
	return "other"
}

func usesType(n *schema.Node, types []string) bool {
	for _, t := range types {
		for _, o := range n.Output {
			if o == t {
				return true
			}
		}
		for _, in := range n.Inputs {
			if in.Type == t {
				return true
			}
		}
	}
	return false
}
