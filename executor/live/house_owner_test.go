package live_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"comfyrt/executor/live"
	"comfyrt/internal/testkit"
)

// memInput serves segments from memory, then io.EOF.
type memInput struct {
	mu   sync.Mutex
	segs [][]byte
}

func (m *memInput) NextSegment(ctx context.Context) (int, io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.segs) == 0 {
		return 0, nil, io.EOF
	}
	seg := m.segs[0]
	m.segs = m.segs[1:]
	return 0, io.NopCloser(bytes.NewReader(seg)), nil
}

// memOutput keeps the output segments.
type memOutput struct {
	mu   sync.Mutex
	segs []*bytes.Buffer
}

type memSeg struct{ *bytes.Buffer }

func (memSeg) Close() error { return nil }

func (m *memOutput) NewSegment(ctx context.Context) (io.WriteCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := &bytes.Buffer{}
	m.segs = append(m.segs, b)
	return memSeg{b}, nil
}

// The stream's state has one owner goroutine: Stats and Swap from several
// goroutines while the stream runs (the race detector watches), then,
// once the input ended, Swap reports the end and Stats still gives the
// final counters.
func TestHouseOwnerConcurrentSwapStats(t *testing.T) {
	needAV(t)
	testkit.CheckGoroutines(t)
	r := &live.Runner{Compiler: compilerConfig(t)}
	params := live.Params{Workflow: []byte(identityWF), Width: size, Height: size}
	ctx := context.Background()
	first, err := r.Prepare(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	out := &memOutput{}
	st, err := r.Open(ctx, live.StreamIO{ID: "house", Input: &memInput{segs: inputSegments(t, 3*fps)},
		Output: out, Width: size, Height: size}, first)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-st.Done():
					return
				default:
				}
				s := st.Stats()
				if s.FramesOut > s.FramesIn {
					t.Errorf("stats: %d frames out of %d in", s.FramesOut, s.FramesIn)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			p, err := r.Prepare(ctx, params)
			if err != nil {
				t.Error(err)
				return
			}
			if err := st.Swap(ctx, p); err != nil && !strings.Contains(err.Error(), "ended") {
				t.Errorf("swap: %v", err)
			}
		}
	}()
	<-st.Done()
	wg.Wait()
	if err := st.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}

	p, err := r.Prepare(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Swap(ctx, p); err == nil || !strings.Contains(err.Error(), "the stream ended") {
		t.Errorf("swap after the end: %v, want the stream ended", err)
	}
	s := st.Stats()
	if s.FramesIn == 0 || s.FramesOut == 0 || s.Loading {
		t.Errorf("stats after the end: %+v, want the final counters and not loading", s)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	out.mu.Lock()
	n := len(out.segs)
	out.mu.Unlock()
	if n == 0 {
		t.Error("no output segment")
	}
}
