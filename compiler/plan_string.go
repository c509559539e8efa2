package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"comfyrt/nodes/value"
)

// String renders the plan as stable text (golden files): a summary, then
// each step in run order (static, then per-frame), with its kernel, input
// wiring, output specs, bytes and buffers, then the frame outputs.
func (pl *Plan) String() string { return pl.render(false) }

// Explain is String plus, for each step, why it is static or per-frame,
// and the buffer pool.
func (pl *Plan) Explain() string { return pl.render(true) }

func (pl *Plan) render(explain bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: %d steps (%d static, %d per-frame), %d frame outputs\n", len(pl.staticRun)+len(pl.frameRun)+len(pl.audioRun), len(pl.staticRun), len(pl.frameRun), len(pl.outs))
	if pl.hasFrame {
		fmt.Fprintf(&b, "frame: %s %d B -> %s\n", pl.frameSpec, pl.frameSpec.Bytes(), strings.Join(prefixIDs(pl.typed.frameIns), " "))
	} else if pl.audioIn == nil {
		b.WriteString("frame: none (the workflow runs once)\n")
	} else {
		b.WriteString("frame: none (audio only)\n")
	}
	if pl.audioIn != nil {
		fmt.Fprintf(&b, "audio: chunk %s %d B -> #%s, %d per-chunk steps\n", pl.audioSpec, pl.audioSpec.Bytes(), pl.audioIn.node.ID, len(pl.audioRun))
	}
	var frameBytes int64
	for _, c := range pl.slotCap {
		frameBytes += int64(c) * 4
	}
	var staticBytes, naive int64
	for _, s := range pl.steps {
		for _, sp := range s.outSpecs {
			if s.static {
				staticBytes += sp.Bytes()
			} else {
				naive += sp.Bytes()
			}
		}
	}
	fmt.Fprintf(&b, "buffers: %d per-frame, %d B (%d B without reuse); static %d B\n", len(pl.slotCap), frameBytes, naive, staticBytes)
	section := func(title string, static bool) {
		fmt.Fprintf(&b, "%s:\n", title)
		any := false
		for _, s := range pl.steps {
			if s.static != static || s.frameOut {
				continue
			}
			any = true
			pl.renderStep(&b, s, explain)
		}
		if !any {
			b.WriteString("  (none)\n")
		}
	}
	section("static", true)
	section("per-frame", false)
	b.WriteString("outputs:\n")
	for i, o := range pl.outs {
		src := pl.outSrc[i]
		fmt.Fprintf(&b, "  #%s %s%s <- %s\n", o.node.ID, o.node.Class, title(o.node), pl.wire(src))
	}
	pl.renderElided(&b, explain)
	if o := pl.audioOut; o != nil {
		for _, l := range o.links {
			if l.slot == 0 {
				fmt.Fprintf(&b, "  #%s %s%s (audio) <- %s\n", o.node.ID, o.node.Class, title(o.node), pl.wire(l))
			}
		}
	}
	if explain && len(pl.slotCap) > 0 {
		b.WriteString("buffer pool:\n")
		for i, c := range pl.slotCap {
			var users []string
			for _, s := range pl.steps {
				for j, bi := range s.outBuf {
					if bi == i {
						users = append(users, fmt.Sprintf("#%s.%d", s.node.ID, j))
					}
				}
			}
			fmt.Fprintf(&b, "  buf%d %d B: %s\n", i, int64(c)*4, strings.Join(users, " "))
		}
	}
	return b.String()
}

func (pl *Plan) renderStep(b *strings.Builder, s *step, explain bool) {
	tag := ""
	if s.frameIn {
		tag = " [frame input]"
	}
	if s.audioIn {
		tag = " [audio input]"
	}
	if s.adopted {
		tag += " [reused]"
	}
	if s.cached {
		fmt.Fprintf(b, "  #%s %s%s results shared by another plan [shared]\n", s.node.ID, s.node.Class, title(s.node))
	} else {
		fmt.Fprintf(b, "  #%s %s%s kernel=%T%s\n", s.node.ID, s.node.Class, title(s.node), s.kernel.k, tag)
	}
	if explain {
		fmt.Fprintf(b, "    why: %s\n", s.reason)
		if !s.cached && s.kernel != nil {
			if n, ok := s.kernel.k.(interface{ Note() string }); ok && n.Note() != "" {
				fmt.Fprintf(b, "    note: %s\n", n.Note())
			}
		}
	}
	if s.frameIn {
		fmt.Fprintf(b, "    in  frame %s\n", pl.frameSpec)
	} else {
		links := map[int]link{}
		for _, l := range s.links {
			links[l.slot] = l
		}
		for i, in := range s.node.inputs {
			switch {
			case in.Linked:
				fmt.Fprintf(b, "    in  %s <- %s\n", in.Name, pl.wire(links[i]))
			case in.Literal != nil:
				fmt.Fprintf(b, "    in  %s = %s\n", in.Name, s.inSpecs[i])
			default:
				fmt.Fprintf(b, "    in  %s (absent)\n", in.Name)
			}
		}
	}
	for j, sp := range s.outSpecs {
		fmt.Fprintf(b, "    out %d %s%s\n", j, sp, pl.where(s, j))
	}
}

// wire renders a link: "#2.0 IMAGE[1,512,512,3] buf1".
func (pl *Plan) wire(l link) string {
	if l.from == nil {
		return "(none)"
	}
	return fmt.Sprintf("#%s.%d %s%s", l.from.node.ID, l.out, l.from.outSpecs[l.out], pl.where(l.from, l.out))
}

// where renders the size and storage of an output.
func (pl *Plan) where(s *step, j int) string {
	sp := s.outSpecs[j]
	if !sp.Kind.IsTensor() {
		if sp.Const != nil {
			return ""
		}
		return " (scalar)"
	}
	if s.static {
		return fmt.Sprintf(" %d B static", sp.Bytes())
	}
	if s.audio {
		return fmt.Sprintf(" %d B own", sp.Bytes())
	}
	return fmt.Sprintf(" %d B buf%d", sp.Bytes(), s.outBuf[j])
}

func title(n *Node) string {
	if n.Title == "" || n.Title == n.Class {
		return ""
	}
	return " " + strconv.Quote(n.Title)
}

func prefixIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "#" + id
	}
	return out
}

// DOT renders the plan as a Graphviz digraph: static steps blue,
// per-frame steps orange, frame outputs green; edges carry the spec.
func (pl *Plan) DOT() string {
	var b strings.Builder
	b.WriteString("digraph plan {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")
	for _, s := range pl.steps {
		color, kind := "#f4a261", "per-frame"
		switch {
		case s.frameOut:
			color, kind = "#90be6d", "frame output"
		case s.static:
			color, kind = "#a8dadc", "static"
		}
		if s.frameIn {
			kind = "frame input"
		}
		label := fmt.Sprintf("#%s %s\n%s", s.node.ID, s.node.Class, kind)
		if s.node.Title != "" && s.node.Title != s.node.Class {
			label = fmt.Sprintf("#%s %s\n%s\n%s", s.node.ID, s.node.Class, s.node.Title, kind)
		}
		fmt.Fprintf(&b, "  %s [label=%s, fillcolor=%q];\n", strconv.Quote("n"+s.node.ID), strconv.Quote(label), color)
	}
	if pl.hasFrame {
		fmt.Fprintf(&b, "  frame [label=%s, shape=ellipse, fillcolor=\"#f4a261\"];\n", strconv.Quote("frame\n"+pl.frameSpec.String()))
		for _, id := range pl.typed.frameIns {
			fmt.Fprintf(&b, "  frame -> %s;\n", strconv.Quote("n"+id))
		}
	}
	for _, s := range pl.steps {
		for _, l := range s.links {
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", strconv.Quote("n"+l.from.node.ID), strconv.Quote("n"+s.node.ID),
				strconv.Quote(edgeLabel(l.from.outSpecs[l.out], s.node.inputs[l.slot].Name)))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func edgeLabel(sp value.Spec, input string) string {
	return input + "\n" + sp.String()
}
