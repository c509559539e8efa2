package schema

import (
	"sort"
	"sync/atomic"

	"comfyrt/internal/jsonx"
	"comfyrt/internal/spell"
)

// Set is a collection of node classes keyed by class name. A Set is built
// once and then only read; it is safe for concurrent reads. The zero Set is
// empty and ready to use.
type Set struct {
	nodes map[string]*Node
	// names caches Names(); Add and Merge clear it.
	names atomic.Pointer[[]string]
	// speller caches NameIndex(); Add and Merge clear it.
	speller atomic.Pointer[spell.Index]
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{nodes: map[string]*Node{}} }

// Merged returns a new Set holding the classes of sets, merged in order: a
// later set's class replaces an earlier one of the same name. Nil sets are
// skipped.
func Merged(sets ...*Set) *Set {
	out := NewSet()
	for _, s := range sets {
		out.Merge(s)
	}
	return out
}

// Lookup returns the class called name, or nil.
func (s *Set) Lookup(name string) *Node {
	if s == nil {
		return nil
	}
	return s.nodes[name]
}

// Len is the number of classes.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.nodes)
}

// Names returns the class names, sorted.
func (s *Set) Names() []string {
	if s == nil {
		return nil
	}
	if p := s.names.Load(); p != nil {
		return append([]string(nil), (*p)...)
	}
	names := s.sortedNames()
	s.names.Store(&names)
	return append([]string(nil), names...)
}

// SortedNames is Names without the copy: the caller must not modify the
// slice. It is cached until the next Add or Merge.
func (s *Set) SortedNames() []string {
	if s == nil {
		return nil
	}
	if p := s.names.Load(); p != nil {
		return *p
	}
	names := s.sortedNames()
	s.names.Store(&names)
	return names
}

// NameIndex returns the class names prepared for "did you mean"
// suggestions: NameIndex().Nearest(x) is spell.Nearest(x, SortedNames()).
// It is cached until the next Add or Merge.
func (s *Set) NameIndex() *spell.Index {
	if s == nil {
		return spell.NewIndex(nil)
	}
	if ix := s.speller.Load(); ix != nil {
		return ix
	}
	ix := spell.NewIndex(s.SortedNames())
	s.speller.Store(ix)
	return ix
}

func (s *Set) sortedNames() []string {
	names := make([]string, 0, len(s.nodes))
	for n := range s.nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Nodes returns the classes sorted by name.
func (s *Set) Nodes() []*Node {
	names := s.Names()
	out := make([]*Node, len(names))
	for i, n := range names {
		out[i] = s.nodes[n]
	}
	return out
}

// Add adds n, replacing a class of the same name.
func (s *Set) Add(n *Node) {
	if s.nodes == nil {
		s.nodes = map[string]*Node{}
	}
	s.nodes[n.Name] = n
	s.names.Store(nil)
	s.speller.Store(nil)
}

// Merge adds every class of o, replacing classes of the same name. The
// nodes are shared, not copied.
func (s *Set) Merge(o *Set) {
	if o == nil {
		return
	}
	if s.nodes == nil {
		s.nodes = make(map[string]*Node, len(o.nodes))
	}
	s.names.Store(nil)
	s.speller.Store(nil)
	for _, n := range o.nodes {
		s.nodes[n.Name] = n
	}
}

// Clone returns a new Set with the same classes (the nodes are shared), so
// that the copy can be added to without touching s.
func (s *Set) Clone() *Set {
	out := &Set{nodes: make(map[string]*Node, s.Len())}
	out.Merge(s)
	return out
}

// JSON returns the set as an object_info document: classes sorted by name,
// each as Node.JSON gives it.
func (s *Set) JSON() jsonx.Object {
	nodes := s.Nodes()
	out := make(jsonx.Object, len(nodes))
	for i, n := range nodes {
		out[i] = jsonx.Member{Key: n.Name, Value: n.JSON()}
	}
	return out
}

// Marshal encodes the set as object_info JSON; indent "" gives compact
// output.
func (s *Set) Marshal(indent string) ([]byte, error) {
	return jsonx.Marshal(s.JSON(), indent)
}

// MarshalJSON encodes the set as compact object_info JSON.
func (s *Set) MarshalJSON() ([]byte, error) { return s.Marshal("") }
