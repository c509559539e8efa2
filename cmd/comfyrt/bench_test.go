package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bytedance/sonic"

	"comfyrt/internal/testkit"
	"comfyrt/nodes/schema"
)

// Benchmark B4 (BENCHMARKS.md): the cost of check + convert (what
// `comfyrt validate` does to a file: decode, parse, UI→API conversion,
// validation) against merely decoding the same bytes with sonic into a
// generic map. The two are interleaved in one loop (A B A B …) and the
// median per-iteration ratio is reported as the metric "x-decode".

// synthAPI builds an N-node API-format chain of built-in nodes.
func synthAPI(n int) []byte {
	var b strings.Builder
	b.WriteString("{\n")
	fmt.Fprintf(&b, `  "1": {"class_type": "LoadTensor", "inputs": {}, "_meta": {"title": "in"}}`)
	for i := 2; i < n; i++ {
		b.WriteString(",\n")
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, `  "%d": {"class_type": "ImageBlur", "inputs": {"image": ["%d", 0], "blur_radius": %d, "sigma": 1.5}, "_meta": {"title": "blur %d"}}`, i, i-1, 1+i%30, i)
		case 1:
			fmt.Fprintf(&b, `  "%d": {"class_type": "ImageInvert", "inputs": {"image": ["%d", 0]}, "_meta": {"title": "invert %d"}}`, i, i-1, i)
		default:
			fmt.Fprintf(&b, `  "%d": {"class_type": "ImageBlend", "inputs": {"image1": ["%d", 0], "image2": ["1", 0], "blend_factor": 0.5, "blend_mode": "screen"}, "_meta": {"title": "blend %d"}}`, i, i-1, i)
		}
	}
	fmt.Fprintf(&b, ",\n  \"%d\": {\"class_type\": \"SaveTensor\", \"inputs\": {\"images\": [\"%d\", 0]}}\n}\n", n, n-1)
	return []byte(b.String())
}

// synthUI builds the same chain in the UI format.
func synthUI(n int) []byte {
	var nodes, links []string
	link := 0
	addLink := func(from, to, slot int, typ string) int {
		link++
		links = append(links, fmt.Sprintf(`[%d, %d, 0, %d, %d, "%s"]`, link, from, to, slot, typ))
		return link
	}
	nodes = append(nodes, `{"id": 1, "type": "LoadTensor", "pos": [0, 0], "size": [200, 60], "flags": {}, "order": 0, "mode": 0, "inputs": [], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}], "properties": {}, "widgets_values": []}`)
	for i := 2; i < n; i++ {
		l := addLink(i-1, i, 0, "IMAGE")
		switch i % 3 {
		case 0:
			nodes = append(nodes, fmt.Sprintf(`{"id": %d, "type": "ImageBlur", "pos": [%d, 0], "size": [200, 80], "flags": {}, "order": %d, "mode": 0, "inputs": [{"name": "image", "type": "IMAGE", "link": %d}], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}], "properties": {"Node name for S&R": "ImageBlur"}, "widgets_values": [%d, 1.5]}`, i, i*250, i, l, 1+i%30))
		case 1:
			nodes = append(nodes, fmt.Sprintf(`{"id": %d, "type": "ImageInvert", "pos": [%d, 0], "size": [200, 30], "flags": {}, "order": %d, "mode": 0, "inputs": [{"name": "image", "type": "IMAGE", "link": %d}], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}], "properties": {}, "widgets_values": []}`, i, i*250, i, l))
		default:
			l2 := addLink(1, i, 1, "IMAGE")
			nodes = append(nodes, fmt.Sprintf(`{"id": %d, "type": "ImageBlend", "pos": [%d, 0], "size": [200, 100], "flags": {}, "order": %d, "mode": 0, "inputs": [{"name": "image1", "type": "IMAGE", "link": %d}, {"name": "image2", "type": "IMAGE", "link": %d}], "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}], "properties": {}, "widgets_values": [0.5, "screen"]}`, i, i*250, i, l, l2))
		}
	}
	l := addLink(n-1, n, 0, "IMAGE")
	nodes = append(nodes, fmt.Sprintf(`{"id": %d, "type": "SaveTensor", "pos": [%d, 0], "size": [200, 60], "flags": {}, "order": %d, "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": %d}], "outputs": [], "properties": {}, "widgets_values": []}`, n, n*250, n, l))
	return []byte(fmt.Sprintf(`{"last_node_id": %d, "last_link_id": %d, "nodes": [%s], "links": [%s], "groups": [], "config": {}, "extra": {}, "version": 0.4}`,
		n, link, strings.Join(nodes, ",\n"), strings.Join(links, ",\n")))
}

// benchRatio runs check and a sonic decode of data alternately and reports
// the median ratio of their times.
func benchRatio(b *testing.B, data []byte, schemas *schema.Set, wantValid bool) {
	b.Helper()
	if c := check("bench", data, schemas, false, nil); c.valid != wantValid {
		b.Fatalf("valid = %v, want %v: %v", c.valid, wantValid, c.diags)
	}
	var ratios []float64
	var checkTotal, decTotal time.Duration
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		c := check("bench", data, schemas, false, nil)
		t1 := time.Now()
		var v any
		if err := sonic.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		_ = c
		checkTotal += t1.Sub(t0)
		decTotal += t2.Sub(t1)
		ratios = append(ratios, float64(t1.Sub(t0))/float64(t2.Sub(t1)))
	}
	sort.Float64s(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-decode")
	b.ReportMetric(float64(decTotal.Nanoseconds())/float64(len(ratios)), "decode-ns/op")
}

func BenchmarkB4_Synthetic(b *testing.B) {
	schemas, err := loadSchemas(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 50, 200, 1000} {
		b.Run(fmt.Sprintf("api-%d", n), func(b *testing.B) { benchRatio(b, synthAPI(n), schemas, true) })
		b.Run(fmt.Sprintf("ui-%d", n), func(b *testing.B) { benchRatio(b, synthUI(n), schemas, true) })
	}
}

func BenchmarkB4_Corpus(b *testing.B) {
	dir := testkit.CorpusDir(b)
	schemas, err := loadSchemas(testkit.CorpusObjectInfo(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	// The whole corpus as one unit: every file checked once per iteration.
	var files [][]byte
	for _, f := range testkit.CorpusWorkflows(b) {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, data)
	}
	var ratios []float64
	b.ReportAllocs()
	for b.Loop() {
		var tc, td time.Duration
		for _, data := range files {
			t0 := time.Now()
			check("bench", data, schemas, false, nil)
			t1 := time.Now()
			var v any
			_ = sonic.Unmarshal(data, &v)
			td += time.Since(t1)
			tc += t1.Sub(t0)
		}
		ratios = append(ratios, float64(tc)/float64(td))
	}
	sort.Float64s(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-decode")
	b.ReportMetric(float64(len(files)), "files")
}

// TestSynth checks the synthetic workflows are what the benchmark claims:
// valid, in both formats, with N nodes.
func TestSynth(t *testing.T) {
	schemas, err := loadSchemas(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{10, 50} {
		for _, data := range [][]byte{synthAPI(n), synthUI(n)} {
			c := check("synth", data, schemas, false, nil)
			if !c.valid {
				t.Fatalf("n=%d: invalid: %v", n, c.diags)
			}
			if got := len(c.wf.Prompt.Nodes); got != n {
				t.Fatalf("n=%d: %d nodes", n, got)
			}
		}
	}
}
