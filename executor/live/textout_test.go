package live_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"comfyrt/internal/trickle"
)

// textWF: the frame passes through; a StringControl (sawtooth over four
// lines, one step per frame) feeds ComfyStream's SaveTextTensor.
const textWF = `{"1":{"class_type":"LoadTensor","inputs":{}},"2":{"class_type":"SaveTensor","inputs":{"images":["1",0]}},` +
	`"3":{"class_type":"StringControl","inputs":{"always_execute":true,"strings":"a\nb\nc\nd","steps_per_cycle":4,"movement_type":"sawtooth"}},` +
	`"4":{"class_type":"SaveTextTensor","inputs":{"data":["3",0]}}}`

// TestTextToDataChannel: a BYOC stream whose workflow has a text output
// sends one {"type":"text"} JSON line per processed frame on its data
// channel, with the frame's index and its timestamp since the stream's
// first frame, beside the segment lines.
func TestTextToDataChannel(t *testing.T) {
	needAV(t)
	e := newEnv(t)
	segs := inputSegments(t, 3*fps)
	base := e.channels("d1")
	e.orch.CreateChannel("d1-data", "application/jsonl")
	data := e.collect(base + "-data")
	out := e.collect(base + "-out")
	body := fmt.Sprintf(`{"params":{"prompts":%s,"width":%d,"height":%d},"gateway_request_id":"d1","subscribe_url":%q,"publish_url":%q,"control_url":%q,"events_url":%q,"data_url":%q}`,
		textWF, size, size, base, base+"-out", base+"-control", base+"-events", base+"-data")
	resp, err := http.Post(e.hs.URL+"/stream/start", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
	in := trickle.NewPublisher(e.client, base, trickle.PublisherOptions{ContentType: "video/mp2t"})
	for _, seg := range segs {
		publish(t, in, seg, 700*time.Millisecond)
	}
	in.Close()
	out()
	e.waitHealth("IDLE", 10*time.Second)
	type line struct {
		Type, Data, Node string
		Frame            int64
		PTS              float64
	}
	var texts []line
	for _, seg := range data() {
		sc := bufio.NewScanner(bytes.NewReader(seg))
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("data line %q: %v", sc.Text(), err)
			}
			if l.Type == "text" {
				texts = append(texts, l)
			}
		}
	}
	if len(texts) < fps { // frames may be dropped (latest wins), not most
		t.Fatalf("%d text lines for %d frames", len(texts), 3*fps)
	}
	for i, l := range texts {
		if l.Node != "4" || !slices.Contains([]string{"a", "b", "c", "d"}, l.Data) {
			t.Errorf("line %d: %+v", i, l)
		}
		// The timestamp is the frame's: index / 30 s since the first frame.
		if d := l.PTS - float64(l.Frame-texts[0].Frame)/fps - texts[0].PTS; d > 0.002 || d < -0.002 {
			t.Errorf("line %d: frame %d at %.3f s, first %d at %.3f s", i, l.Frame, l.PTS, texts[0].Frame, texts[0].PTS)
		}
		if i > 0 && l.Frame <= texts[i-1].Frame {
			t.Errorf("line %d: frame %d after %d", i, l.Frame, texts[i-1].Frame)
		}
	}
	// The first frame the plan ran is the StringControl's first step (the
	// warm-up did not advance it): phase 1/4 → round(0.75) = 1 → "b".
	if texts[0].Data != "b" {
		t.Errorf("first text %q, want b (warm-up frames must not advance the controller)", texts[0].Data)
	}
}
