package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	"comfyrt/internal/bench/sdbench"
)

func cpuModel() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func ffmpegVersion(ffmpeg string) string {
	out, err := exec.Command(ffmpeg, "-hide_banner", "-version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	line = strings.TrimPrefix(line, "ffmpeg version ")
	if i := strings.Index(line, " Copyright"); i > 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

func Print(w io.Writer, r *Report) {
	fmt.Fprintf(w, "machine   %s, %d CPUs; thread cap %d (decoder, x264, ORT intra-op)\n", r.Machine, r.CPUs, r.Threads)
	keys := make([]string, 0, len(r.Versions))
	for k := range r.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var vs []string
	for _, k := range keys {
		vs = append(vs, k+" "+r.Versions[k])
	}
	fmt.Fprintf(w, "versions  %s\n", strings.Join(vs, "; "))
	fmt.Fprintf(w, "command   %s\n\n", r.Command)
	if r.B7 != nil {
		printB7(w, r.B7)
	}
	if r.SD != nil {
		sdbench.Print(w, r.SD)
	}
	cases := slices.Clone(r.B2)
	if r.B8 != nil {
		cases = append(cases, *r.B8)
	}
	if len(cases) == 0 {
		return
	}
	fmt.Fprintf(w, "%-4s %-9s %6s %10s %10s %7s %13s %6s %-4s %s\n", "id", "size", "frames", "ours fps", "peer fps", "ratio", "ratio min–max", "target", "met", "ours per-frame ms p50/p95/p99 (round 1)")
	for _, c := range cases {
		met := "no"
		if c.Met {
			met = "yes"
		}
		p := c.Rounds[0].Ours
		fmt.Fprintf(w, "%-4s %-9s %6d %10.2f %10.2f %7.3f %6.3f–%-6.3f %6.2f %-4s %.2f/%.2f/%.2f\n", c.ID, c.Size, c.Rounds[0].Ours.Frames,
			c.OursFPS, c.PeerFPS, c.Ratio, c.RatioMin, c.RatioMax, c.Target, met, p.P50ms, p.P95ms, p.P99ms)
	}
	fmt.Fprintln(w)
	for _, c := range cases {
		fmt.Fprintf(w, "%s %s (%d rounds, ours then peer; %d warm-up frames excluded of %d):\n", c.ID, c.Size, len(c.Rounds), c.Warmup, c.Frames)
		fmt.Fprintf(w, "  ours: %s\n  peer: %s\n", c.Ours, c.Peer)
		for i, x := range c.Rounds {
			extra := ""
			if x.Peer.ModelMs > 0 {
				extra = fmt.Sprintf(" (ORT Run %.1f ms/frame)", x.Peer.ModelMs)
			}
			fmt.Fprintf(w, "  round %d: ours %.2f fps, peer %.2f fps%s, ratio %.3f\n", i+1, x.Ours.FPS, x.Peer.FPS, extra, x.Ratio)
		}
		if c.Profile != "" {
			fmt.Fprintf(w, "  CPU profile of ours (an extra run, not in the figures): %s\n", c.Profile)
		}
	}
}
