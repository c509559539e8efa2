package server

import (
	"fmt"
	"time"
)

// Thresholds of the per-stream state machine (ai-runner's
// process_guardian, LIVEPEER.md §2.4).
type Thresholds struct {
	Startup       time.Duration // ONLINE right after a load or update (2 s)
	LoadGrace     time.Duration // no output yet after a load: DEGRADED_INFERENCE until this, then ERROR (30 s, comfyui)
	Gap           time.Duration // input/output gap for DEGRADED_* (2 s)
	Stall         time.Duration // output stalled behind input for this long: ERROR (5 s)
	RecentError   time.Duration // an error this recent: DEGRADED_INFERENCE (15 s)
	RecentRestart time.Duration // a restart this recent: DEGRADED_INFERENCE (60 s)
	MinInputFPS   float64       // below: DEGRADED_INPUT (15)
}

func (t *Thresholds) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.Startup, 2*time.Second)
	def(&t.LoadGrace, 30*time.Second)
	def(&t.Gap, 2*time.Second)
	def(&t.Stall, 5*time.Second)
	def(&t.RecentError, 15*time.Second)
	def(&t.RecentRestart, 60*time.Second)
	if t.MinInputFPS <= 0 {
		t.MinInputFPS = 15
	}
}

// stateInput is what the state machine looks at.
type stateInput struct {
	Now, Start, LastInput, LastOutput, LastUpdate, LastError, LastRestart time.Time
	FPSIn, FPSOut                                                         float64
	HaveFrames                                                            bool // the runner counts frames
}

// streamState is ai-runner's internal state of a running stream: ONLINE,
// DEGRADED_INPUT, DEGRADED_INFERENCE or ERROR.
func streamState(in stateInput, th Thresholds) string {
	since := func(t time.Time) time.Duration {
		if t.IsZero() {
			return 1 << 62
		}
		return in.Now.Sub(t)
	}
	loaded := in.Start
	if in.LastUpdate.After(loaded) {
		loaded = in.LastUpdate
	}
	if !in.LastOutput.After(loaded) { // no output since the load or update
		switch {
		case since(loaded) < th.Startup:
			return "ONLINE"
		case since(in.LastInput) > th.Gap:
			return "DEGRADED_INPUT"
		case since(loaded) < th.LoadGrace:
			return "DEGRADED_INFERENCE"
		}
		return "ERROR"
	}
	if in.LastInput.Sub(in.LastOutput) > time.Second && since(in.LastOutput) > th.Stall {
		return "ERROR"
	}
	if since(in.LastError) < th.RecentError || since(in.LastRestart) < th.RecentRestart {
		return "DEGRADED_INFERENCE"
	}
	if since(in.LastInput) > th.Gap || (in.HaveFrames && in.FPSIn < th.MinInputFPS) {
		return "DEGRADED_INPUT"
	}
	if since(in.LastOutput) > th.Gap || (in.HaveFrames && in.FPSOut < min(10, 0.8*in.FPSIn)) {
		return "DEGRADED_INFERENCE"
	}
	return "ONLINE"
}

func (s *session) evaluate(now time.Time) string {
	info := s.snapshot()
	st := s.stream.Stats()
	in := stateInput{
		Now: now, Start: s.start, LastUpdate: info.LastParamsUpdate, LastError: info.LastErrorTime,
		LastRestart: info.LastRestart,
		FPSIn:       info.FPSIn, FPSOut: info.FPSOut, HaveFrames: st.FramesIn > 0,
	}
	if n := s.lastInput.Load(); n != 0 {
		in.LastInput = time.Unix(0, n)
	}
	if n := s.lastOutput.Load(); n != 0 {
		in.LastOutput = time.Unix(0, n)
	}
	if st.Loading {
		in.LastUpdate = now // a reload in progress counts as just loaded
	}
	return streamState(in, s.srv.cfg.Thresholds)
}

// errorReason explains an ERROR state (see evaluate).
func (s *session) errorReason(now time.Time) string {
	info := s.snapshot()
	in := stateInput{Now: now, Start: s.start, LastUpdate: info.LastParamsUpdate, LastError: info.LastErrorTime,
		LastRestart: info.LastRestart, FPSIn: info.FPSIn, FPSOut: info.FPSOut}
	if n := s.lastInput.Load(); n != 0 {
		in.LastInput = time.Unix(0, n)
	}
	if n := s.lastOutput.Load(); n != 0 {
		in.LastOutput = time.Unix(0, n)
	}
	if r := errorReason(in, s.srv.cfg.Thresholds); r != "" {
		return r
	}
	return "the stream's health checks failed"
}

// errorReason says which condition makes streamState ERROR (for the
// error event and the status event's last_error; "" when it is not ERROR).
func errorReason(in stateInput, th Thresholds) string {
	if streamState(in, th) != "ERROR" {
		return ""
	}
	since := func(t time.Time) time.Duration { return in.Now.Sub(t).Round(100 * time.Millisecond) }
	loaded := in.Start
	if in.LastUpdate.After(loaded) {
		loaded = in.LastUpdate
	}
	if !in.LastOutput.After(loaded) {
		return fmt.Sprintf("no output in the %v since the workflow was loaded, while input arrives", since(loaded))
	}
	return fmt.Sprintf("the output stalled: no output for %v while input arrives (last input %v ago)", since(in.LastOutput), since(in.LastInput))
}
