package live_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"comfyrt/executor/live"
	"comfyrt/internal/trickle"
)

// An output that cannot be created (an encoder this FFmpeg lacks) ends
// the stream with an error naming the output and the encoder; the runner
// reports it in an error event and goes back to IDLE and leaves no goroutine behind (newEnv checks), the
// first workflow included.
func TestAdoptOutputFails(t *testing.T) {
	needAV(t)
	const enc = "comfyrt-no-such-encoder"
	e := newEnvWith(t, func(r *live.Runner) { r.Encoder = enc })
	segs := inputSegments(t, 2*fps)
	base := e.channels("o1")
	saw := e.events(base + "-events")
	e.start(base, fmt.Sprintf(`{"prompt":%s,"width":%d,"height":%d}`, invertWF, size, size))
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{ContentType: "video/mp2t"})
	defer in.Close()
	for _, seg := range segs {
		publish(t, in, seg, 300*time.Millisecond)
	}
	logged := func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, l := range e.logs {
			if strings.Contains(l, "output pipe:") && strings.Contains(l, "encoder "+enc) {
				return true
			}
		}
		return false
	}
	waitFor(t, "the stream's output error", 20*time.Second, logged)
	e.waitHealth("IDLE", 20*time.Second)
	waitFor(t, "an error event naming the encoder", 10*time.Second, func() bool {
		return saw(`"type":"error"`) && saw("encoder "+enc)
	})
}
