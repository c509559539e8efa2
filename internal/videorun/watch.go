package videorun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"comfyrt/compiler"
	"comfyrt/executor"
	"comfyrt/executor/media"
)

// watch follows a started run: its events, its status line and the
// signals that stop it.
type watch struct {
	p      *executor.Pipeline[*compiler.Plan]
	info   media.StreamInfo
	events chan executor.Event
	stderr io.Writer
	tty    bool
	start  time.Time
	// progressEvery is --progress-every (0: 5 s).
	progressEvery time.Duration
}

// follow reports events and progress until the run ends or is interrupted
// (ctx). gaveUp reports an interrupted run whose output did not finish
// within closeWait.
func (w *watch) follow(ctx context.Context, stop func()) (interrupted, gaveUp bool) {
	every := 500 * time.Millisecond // the terminal's status line, redrawn in place
	if !w.tty {
		every = w.progressEvery // one plain line each time
		if every <= 0 {
			every = 5 * time.Second
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-w.p.Done():
			return false, false
		case <-ctx.Done():
			stop()
			return true, w.interrupted()
		case ev := <-w.events:
			reportEvent(w.stderr, ev, w.tty)
		case <-tick.C:
			if w.tty {
				fmt.Fprintf(w.stderr, "\r\033[K%s", statusLine(w.p.Stats(), w.info, time.Since(w.start)))
			} else {
				fmt.Fprintf(w.stderr, "comfyrt run: %s\n", statusLine(w.p.Stats(), w.info, time.Since(w.start)))
			}
		}
	}
}

// interrupted follows SIGINT/SIGTERM: the output is finished (the
// pipeline stops on the cancelled context). A second signal kills the
// process; a sink that stays blocked (a stalled network output) is given
// up on after closeWait (true).
func (w *watch) interrupted() (gaveUp bool) {
	if w.tty {
		fmt.Fprint(w.stderr, "\r\033[K")
	}
	fmt.Fprintln(w.stderr, "comfyrt run: interrupted; finishing the output (again to quit at once)")
	select {
	case <-w.p.Done():
		return false
	case <-time.After(closeWait):
		fmt.Fprintf(w.stderr, "comfyrt run: the output did not finish within %s; giving up\n", closeWait)
		return true
	}
}

// finish closes the ended run, prints its last status line and outcome,
// writes --stats-json and returns the exit status.
func (w *watch) finish(o Options, interrupted bool, stdout io.Writer) int {
	stderr := w.stderr
	runErr := w.p.Wait()
	for drained := false; !drained; {
		select {
		case ev := <-w.events:
			reportEvent(stderr, ev, w.tty)
		default:
			drained = true
		}
	}
	closeErr := w.p.Close()
	st := w.p.Stats()
	if w.tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	fmt.Fprintf(stderr, "%s\n", statusLine(st, w.info, time.Since(w.start)))
	statsErr := writeStats(o.StatsJSON, st)
	if statsErr != nil {
		fmt.Fprintf(stderr, "comfyrt run: --stats-json: %v\n", statsErr)
	}
	if runErr == nil {
		runErr = closeErr
	}
	switch {
	case runErr != nil && !errors.Is(runErr, context.Canceled):
		fmt.Fprintf(stderr, "comfyrt run: %v\n", runErr)
		return ExitInvalid
	case interrupted:
		fmt.Fprintf(stdout, "%s: interrupted after %d frames (%d dropped) from %s\n", o.Out, st.FramesOut, st.DroppedTotal(), o.InName)
		return ExitInterrupted
	case statsErr != nil:
		return ExitUsage
	}
	fmt.Fprintf(stdout, "%s: %d frames (%d dropped) from %s\n", o.Out, st.FramesOut, st.DroppedTotal(), o.InName)
	return ExitOK
}

// writeStats writes the statistics as JSON to name ("": nothing).
func writeStats(name string, st executor.Stats) error {
	if name == "" {
		return nil
	}
	b, err := st.JSON()
	if err == nil {
		err = os.WriteFile(name, append(b, '\n'), 0o644)
	}
	return err
}

// reportEvent prints the events a person needs to see: the switch to
// passthrough and errors (node errors once per kind; drops are counters
// only, shown in the status line).
func reportEvent(w io.Writer, ev executor.Event, tty bool) {
	var msg string
	switch ev.Kind {
	case executor.EventPassthrough:
		msg = fmt.Sprintf("too many consecutive node errors: the stream now passes frames through (last: %v)", ev.Err)
	case executor.EventSourceError:
		msg = fmt.Sprintf("input error (frame skipped): %v", ev.Err)
	case executor.EventSinkError:
		msg = fmt.Sprintf("output error: %v", ev.Err)
	case executor.EventLive:
		msg = "the input arrives at real time: live from here (latest frame wins, fps cap)"
	default:
		return
	}
	if tty {
		fmt.Fprint(w, "\r\033[K")
	}
	fmt.Fprintf(w, "comfyrt run: %s\n", msg)
}

// statusLine renders fps in/out, drops, latency and, for files, progress
// and ETA.
func statusLine(s executor.Stats, info media.StreamInfo, elapsed time.Duration) string {
	line := fmt.Sprintf("frames in %d out %d dropped %d | fps in %.1f out %.1f | latency p50 %s p99 %s",
		s.FramesIn, s.FramesOut, s.DroppedTotal(), s.FPSIn, s.FPSOut, ms(s.Latency.P50), ms(s.Latency.P99))
	if s.NodeErrors > 0 || s.SourceErrors > 0 {
		line += fmt.Sprintf(" | errors %d", s.NodeErrors+s.SourceErrors+s.SinkErrors)
	}
	if s.Passthrough {
		line += " | PASSTHROUGH"
	}
	if info.Frames > 0 && !info.Live {
		pct := float64(s.FramesIn) / float64(info.Frames)
		if pct > 1 {
			pct = 1
		}
		line += fmt.Sprintf(" | %3.0f%%", pct*100)
		if pct > 0 && pct < 1 {
			eta := time.Duration(float64(elapsed) * (1 - pct) / pct)
			line += " ETA " + eta.Round(time.Second).String()
		}
	}
	return line
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// isTerminal reports whether w is a terminal (for the live status line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
