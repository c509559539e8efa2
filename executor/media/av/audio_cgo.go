//go:build cgo

package av

import (
	"sync"

	"github.com/asticode/go-astiav"
)

// audioQueueCap bounds the audio packets a source keeps for its sink
// (about 10 s of AAC at 48 kHz); the oldest fall off.
const audioQueueCap = 512

// audioQueue hands demuxed audio packets from a Source (decode goroutine)
// to a Sink (encode goroutine).
type audioQueue struct {
	mu      sync.Mutex
	index   int // the audio stream's index in the source
	par     *astiav.CodecParameters
	tb      astiav.Rational
	pkts    []*astiav.Packet // ring of cloned packets
	head, n int
	queued  int64
	dropped int64
	closed  bool
	taken   bool // a sink uses it
}

func newAudioQueue(st *astiav.Stream) *audioQueue {
	q := &audioQueue{index: st.Index(), tb: st.TimeBase(), par: astiav.AllocCodecParameters(),
		pkts: make([]*astiav.Packet, audioQueueCap)}
	_ = st.CodecParameters().Copy(q.par)
	for i := range q.pkts {
		q.pkts[i] = astiav.AllocPacket()
	}
	return q
}

func (q *audioQueue) push(p *astiav.Packet) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || !q.taken {
		return // nobody reads it: keep nothing
	}
	if q.n == len(q.pkts) {
		q.pkts[q.head].Unref()
		q.head = (q.head + 1) % len(q.pkts)
		q.n--
		q.dropped++
	}
	slot := q.pkts[(q.head+q.n)%len(q.pkts)]
	if err := slot.Ref(p); err != nil {
		q.dropped++
		return
	}
	q.n++
	q.queued++
}

// drain calls fn with every queued packet (in order), then unrefs them.
func (q *audioQueue) drain(fn func(*astiav.Packet)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for ; q.n > 0; q.n-- {
		p := q.pkts[q.head]
		if !q.closed {
			fn(p)
		}
		p.Unref()
		q.head = (q.head + 1) % len(q.pkts)
	}
}

func (q *audioQueue) counts() (int64, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued, q.dropped
}

func (q *audioQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	for _, p := range q.pkts {
		p.Free()
	}
	q.pkts, q.n = nil, 0
	q.par.Free()
}
