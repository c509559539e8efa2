package census

import (
	"fmt"
	"strings"
)

// Table renders the entries as Markdown: one row per workflow, then the
// counts per family and in all.
func Table(entries []Entry) string {
	var b strings.Builder
	b.WriteString("| workflow | family | result | classes / first error |\n|---|---|---|---|\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", e.File, e.Family, result(e), cell(e))
	}
	b.WriteString("\n" + Summary(entries))
	return b.String()
}

// Summary is the per-family count table.
func Summary(entries []Entry) string {
	var b strings.Builder
	b.WriteString("| family | workflows | compiles | ran | missing_node_type | missing_node_implementation | other |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, keep func(Entry) bool) {
		var n, comp, ran, typ, ker, oth int
		for _, e := range entries {
			if !keep(e) {
				continue
			}
			n++
			switch e.Status {
			case Compiles:
				comp++
				if e.Ran() {
					ran++
				}
			case MissingType:
				typ++
			case MissingKernel:
				ker++
			default:
				oth++
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", name, n, comp, ran, typ, ker, oth)
	}
	for _, f := range Families {
		row(f, func(e Entry) bool { return e.Family == f })
	}
	row("**all**", func(Entry) bool { return true })
	return b.String()
}

func result(e Entry) string {
	if e.Status == Compiles && !e.Ran() {
		return "compiles, run failed"
	}
	if e.Ran() {
		return "compiles, ran"
	}
	return e.Status
}

// cell lists what stopped the workflow: its unknown classes, its classes
// without a kernel, or the first error.
func cell(e Entry) string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, "no schema: "+list(e.Unknown))
	}
	if len(e.NoKernel) > 0 {
		parts = append(parts, "no kernel: "+list(e.NoKernel))
	}
	if e.Detail != "" && e.Detail != ranOK {
		d := e.Detail
		if len(d) > 160 {
			d = d[:157] + "..."
		}
		parts = append(parts, strings.ReplaceAll(d, "|", `\|`))
	}
	return strings.Join(parts, "; ")
}

func list(cs []string) string {
	if len(cs) > maxClassesPerCell {
		return strings.Join(cs[:maxClassesPerCell], ", ") + fmt.Sprintf(" (+%d)", len(cs)-maxClassesPerCell)
	}
	return strings.Join(cs, ", ")
}
