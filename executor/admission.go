package executor

import (
	"sync"
	"time"

	"comfyrt/executor/media"
)

// admission is the queue between decode and plan: one slot under
// LatestWins, unbounded under FIFO. The frame in the plan is not in it, so
// at most one frame is in flight and one queued.
type admission struct {
	mu     sync.Mutex
	policy QueuePolicy
	q      []*media.Frame // queued frames are q[head:]
	head   int
	ended  bool
	notify chan struct{} // capacity 1: "something changed"
	space  chan struct{} // capacity 1: "a frame was taken" (Block)
}

func newAdmission(p QueuePolicy) *admission {
	if p == Auto {
		p = Block // until the source is found live (setPolicy)
	}
	return &admission{policy: p, q: make([]*media.Frame, 0, 1), notify: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// setPolicy changes the discipline (Auto's Block → LatestWins). Frames
// queued beyond the newest go to drop.
func (a *admission) setPolicy(p QueuePolicy, drop func(*media.Frame)) {
	a.mu.Lock()
	a.policy = p
	if p == LatestWins {
		for len(a.q)-a.head > 1 {
			drop(a.q[a.head])
			a.q[a.head] = nil
			a.head++
		}
	}
	a.mu.Unlock()
	select {
	case a.space <- struct{}{}: // wake a Block push
	default:
	}
}

func (a *admission) signal() {
	select {
	case a.notify <- struct{}{}:
	default:
	}
}

// push queues f and returns the frame it replaced (LatestWins), if any.
// Under Block it waits for the slot to empty; when done closes first it
// returns f itself, unqueued.
func (a *admission) push(f *media.Frame, done <-chan struct{}) (replaced *media.Frame) {
	for {
		a.mu.Lock()
		if a.policy != Block {
			break // (locked)
		}
		if len(a.q) == a.head {
			a.q = append(a.q, f)
			a.mu.Unlock()
			a.signal()
			return nil
		}
		a.mu.Unlock()
		select {
		case <-a.space:
		case <-done:
			return f
		}
	}
	if a.policy == LatestWins && len(a.q) > a.head {
		replaced, a.q[a.head] = a.q[a.head], f
	} else {
		a.q = append(a.q, f)
	}
	a.mu.Unlock()
	a.signal()
	return replaced
}

// pop takes the oldest queued frame; ended reports that none will come.
func (a *admission) pop() (f *media.Frame, ended bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.q) > a.head {
		f, a.q[a.head] = a.q[a.head], nil
		a.head++
		if a.head == len(a.q) {
			a.q, a.head = a.q[:0], 0
		}
		select {
		case a.space <- struct{}{}:
		default:
		}
		return f, false
	}
	return nil, a.ended
}

// end says no more frames will be pushed.
func (a *admission) end() {
	a.mu.Lock()
	a.ended = true
	a.mu.Unlock()
	a.signal()
}

// drain removes every queued frame.
func (a *admission) drain(put func(*media.Frame)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.q[a.head:] {
		put(f)
	}
	clear(a.q)
	a.q, a.head = a.q[:0], 0
}

// gate is the decode side's frame-rate cap and PTS order check. Frame
// times come from PTS (like the Livepeer decoders), else from Captured.
type gate struct {
	interval float64 // seconds; 0: no cap
	next     float64
	started  bool
	lastPTS  int64
	havePTS  bool
}

// tolerance absorbs PTS rounding (90 kHz ticks, 1/1000 rates).
const tolerance = 1e-3

// admit reports whether f may enter the queue, and why not.
func (g *gate) admit(f *media.Frame, epoch int64) (bool, DropReason) {
	if f.PTS != media.NoPTS {
		if g.havePTS && f.PTS <= g.lastPTS {
			return false, DropPTS
		}
	}
	if g.interval > 0 {
		var t float64
		if f.PTS != media.NoPTS && f.TimeBase.Den != 0 {
			t = float64(f.PTS) * float64(f.TimeBase.Num) / float64(f.TimeBase.Den)
		} else {
			t = float64(f.Captured.UnixNano()-epoch) / 1e9
		}
		if g.started && t < g.next-tolerance {
			return false, DropRate
		}
		// Keep the long-run rate at the cap: the next slot advances by
		// one interval, restarting from t after a gap or a jump.
		if !g.started || t-g.next > g.interval || t < g.next-g.interval {
			g.next = t
		}
		g.started = true
		g.next += g.interval
	}
	if f.PTS != media.NoPTS {
		g.lastPTS, g.havePTS = f.PTS, true
	}
	return true, 0
}

// liveMeter finds a source that delivers at real time (Auto): over each
// window of at least a second of media it compares the time ReadFrame
// waited with the media's duration.
type liveMeter struct {
	have        bool
	start, last float64 // media times (s) of the window's first and last frame
	wait        time.Duration
}

// add records a frame of media time t (seconds) whose ReadFrame took
// took; it reports whether the window just completed shows a live
// source (it waited for at least half of the media's duration).
func (m *liveMeter) add(t float64, took time.Duration) bool {
	if !m.have || t <= m.last || t-m.last > 5 {
		// The first frame, or a discontinuity: start a window here.
		m.have, m.start, m.last, m.wait = true, t, t, 0
		return false
	}
	m.wait += took
	m.last = t
	span := t - m.start
	if span < 1 {
		return false
	}
	live := m.wait.Seconds() >= span/2
	m.start, m.wait = t, 0
	return live
}
