package server

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// gpu is one GPU as ai-runner's hardware routes describe it.
type gpu struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MemoryTotal int64  `json:"memory_total"`
	MemoryFree  int64  `json:"memory_free"`
	Major       int    `json:"major"`
	Minor       int    `json:"minor"`
	UtilCompute int    `json:"-"`
	UtilMemory  int    `json:"-"`
}

// gpus lists NVIDIA GPUs: present when the driver's /proc entries exist;
// memory, capability and utilisation come from nvidia-smi when it runs.
func gpus() []gpu {
	dirs, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
	if len(dirs) == 0 {
		return nil
	}
	var out []gpu
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=uuid,name,memory.total,memory.free,compute_cap,utilization.gpu,utilization.memory",
		"--format=csv,noheader,nounits").Output()
	if err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ", ")
			if len(f) < 7 {
				continue
			}
			g := gpu{ID: f[0], Name: f[1]}
			mib := func(s string) int64 { n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64); return n << 20 }
			g.MemoryTotal, g.MemoryFree = mib(f[2]), mib(f[3])
			maj, min, _ := strings.Cut(f[4], ".")
			g.Major, _ = strconv.Atoi(maj)
			g.Minor, _ = strconv.Atoi(min)
			g.UtilCompute, _ = strconv.Atoi(strings.TrimSpace(f[5]))
			g.UtilMemory, _ = strconv.Atoi(strings.TrimSpace(f[6]))
			out = append(out, g)
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, p := range dirs {
		g := gpu{ID: filepath.Base(filepath.Dir(p))}
		if f, err := os.Open(p); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "Model:"); ok {
					g.Name = strings.TrimSpace(v)
				}
			}
			f.Close()
		}
		out = append(out, g)
	}
	return out
}

// procKV reads "Key: value kB" lines of a /proc file.
func procKV(path string) map[string]int64 {
	m := map[string]int64{}
	f, err := os.Open(path)
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fs) > 1 && fs[1] == "kB" {
			n <<= 10
		}
		m[k] = n
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAvg() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	var out []float64
	for _, f := range strings.Fields(string(b))[:3] {
		v, _ := strconv.ParseFloat(f, 64)
		out = append(out, v)
	}
	return out
}

func (s *Server) handleHardwareInfo(w http.ResponseWriter, _ *http.Request) {
	info := map[string]any{}
	for i, g := range gpus() {
		info[strconv.Itoa(i)] = map[string]any{"id": g.ID, "name": g.Name, "memory_total": g.MemoryTotal,
			"memory_free": g.MemoryFree, "major": g.Major, "minor": g.Minor}
	}
	mem := procKV("/proc/meminfo")
	writeJSON(w, http.StatusOK, map[string]any{
		"pipeline": s.cfg.Pipeline, "model_id": s.cfg.ModelID, "gpu_info": info,
		"cpu_info":    map[string]any{"model": cpuModel(), "cores": runtime.NumCPU()},
		"memory_info": map[string]any{"total": mem["MemTotal"], "available": mem["MemAvailable"]},
	})
}

func (s *Server) handleHardwareStats(w http.ResponseWriter, _ *http.Request) {
	stats := map[string]any{}
	for i, g := range gpus() {
		stats[strconv.Itoa(i)] = map[string]any{"id": g.ID, "name": g.Name, "memory_total": g.MemoryTotal,
			"memory_free": g.MemoryFree, "utilization_compute": g.UtilCompute, "utilization_memory": g.UtilMemory}
	}
	mem := procKV("/proc/meminfo")
	self := procKV("/proc/self/status")
	writeJSON(w, http.StatusOK, map[string]any{
		"pipeline": s.cfg.Pipeline, "model_id": s.cfg.ModelID, "gpu_stats": stats,
		"cpu_stats":    map[string]any{"load_avg": loadAvg(), "cores": runtime.NumCPU()},
		"memory_stats": map[string]any{"total": mem["MemTotal"], "available": mem["MemAvailable"], "process_rss": self["VmRSS"]},
	})
}
