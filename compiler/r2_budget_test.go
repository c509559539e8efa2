package compiler

import (
	"runtime"
	"testing"
)

// blurChain is a 1024² EmptyImage (12 MiB) blurred three times: each
// ImageBlur holds a 12 MiB temporary besides its 12 MiB output.
const blurChain = `{
 "1": {"class_type": "EmptyImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1, "color": 0}},
 "2": {"class_type": "ImageBlur", "inputs": {"image": ["1", 0], "blur_radius": 5, "sigma": 1.0}},
 "3": {"class_type": "ImageBlur", "inputs": {"image": ["2", 0], "blur_radius": 5, "sigma": 1.0}},
 "4": {"class_type": "ImageBlur", "inputs": {"image": ["3", 0], "blur_radius": 5, "sigma": 1.0}},
 "5": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}}
}`

// TestR2Budget_BlurTemporariesCounted: the outputs alone are 48 MiB and
// the temporaries another 36 MiB; a 66 MiB budget refuses the plan at the
// third blur, on its scratch (60 MiB counted before it), which is never
// allocated; MemoryBytes of the plan that fits counts all of it.
func TestR2Budget_BlurTemporariesCounted(t *testing.T) {
	const pic = 1024 * 1024 * 3 * 4
	cfg, _ := testConfig(t)
	cfg.MaxBytes = 66 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Compile(loadString(t, blurChain, cfg), cfg)
	runtime.ReadMemStats(&after)
	d := tooLarge(t, err)
	if d.NodeID != "4" || d.Extra["scratch_bytes"] == nil {
		t.Errorf("refused at node %s with %v, want node 4 on its scratch: %v", d.NodeID, d.Extra, d)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 3*pic {
		t.Errorf("compiling the refused plan allocated %d bytes", grown)
	}
	cfg.MaxBytes = 0
	n, err := Measure(loadString(t, blurChain, cfg), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n < 7*pic {
		t.Errorf("MemoryBytes %d, want at least the four outputs and three temporaries, %d", n, 7*pic)
	}
}
