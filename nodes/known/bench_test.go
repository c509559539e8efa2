package known

import (
	"testing"

	"comfyrt/nodes/schema"
)

// BenchmarkParseCore is what the first Core (each command's start) costs:
// gunzip and parse the embedded core table.
func BenchmarkParseCore(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if s := mustParse(gunzip(coreGz), CoreSource, "core.json.gz"); s.Len() != CoreClasses {
			b.Fatal(s.Len())
		}
	}
}

// BenchmarkSchemas is the cost of each later Schemas call (a merged copy).
func BenchmarkSchemas(b *testing.B) {
	Schemas()
	b.ReportAllocs()
	var s *schema.Set
	for b.Loop() {
		s = Schemas()
	}
	_ = s
}
