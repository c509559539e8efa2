package builtin

import (
	"strings"
	"testing"

	"comfyrt/nodes/value"
)

// TestFeatureBankPassThrough: over a TensorRTLoader MODEL the node passes
// the same handle on (ComfyUI's node hooks no module there); over a
// CheckpointLoaderSimple MODEL it is refused naming the input; bad
// settings are refused naming theirs.
func TestFeatureBankPassThrough(t *testing.T) {
	s := newCNSetup(t)
	fb := func(model any, inj bool, strength, thr float64, interval, frames int64) []value.Value {
		return []value.Value{value.OfHandle(model), boolean(inj), f64(strength), f64(thr), i64(interval), i64(frames)}
	}
	k := modelKernel(t, "FeatureBankAttentionProcessor", s.cp, s.dir)
	out := runPrepared(t, k, fb(s.cnUNet, true, 0.8, 0.98, 4, 4)...)
	if out[0].Handle != any(s.cnUNet) {
		t.Errorf("got %v, want the TensorRTLoader MODEL itself", out[0].Handle)
	}
	if n, ok := k.(interface{ Note() string }); !ok || !strings.Contains(n.Note(), "changes nothing") {
		t.Error("no compile --explain note")
	}
	for _, c := range []struct {
		in   []value.Value
		want string
	}{
		{fb(s.unet, false, 0.8, 0.98, 4, 4), "input model: a MODEL from CheckpointLoaderSimple"},
		{fb(s.clip, false, 0.8, 0.98, 4, 4), "input model"},
		{fb(s.cnUNet, false, 1.5, 0.98, 4, 4), "input feature_injection_strength"},
		{fb(s.cnUNet, false, 0.8, -1, 4, 4), "input feature_similarity_threshold"},
		{fb(s.cnUNet, false, 0.8, 0.98, 0, 4), "input feature_cache_interval"},
		{fb(s.cnUNet, false, 0.8, 0.98, 4, 17), "input feature_bank_max_frames"},
	} {
		_, err := modelKernel(t, "FeatureBankAttentionProcessor", s.cp, s.dir).Prepare(specsOf(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error with %q", err, c.want)
		}
	}
}
