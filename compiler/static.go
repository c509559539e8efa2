package compiler

import (
	"fmt"
	"strings"
	"sync"

	"comfyrt/nodes/value"
)

// StaticCache shares the results of static steps between plans, such as
// the streams of one server running the same workflow: a static step whose
// class, literal inputs, upstream static steps and input specs are those of
// a step another plan already ran takes that step's results instead of
// running (and its kernel is not even made). Only results that are plain
// data are shared (IMAGE, MASK, INT, FLOAT, STRING, BOOLEAN): a Handle
// belongs to the kernel that made it. Results are written once, by the
// step that ran, before they are published, and never again, so plans read
// them concurrently. An entry lives while a plan uses it.
//
// Set it as Config.Static on the plans that share; they must be compiled
// with the same Registry and engines (the key includes both, so plans of
// different registries never share). It is safe for concurrent use.
type StaticCache struct {
	mu sync.Mutex
	m  map[string]*staticEntry
}

// staticEntry is one shared step result.
type staticEntry struct {
	c        *StaticCache
	key      string
	outSpecs []value.Spec
	out      []value.Value
	refs     int // guarded by the cache's mu
}

// NewStaticCache returns an empty cache.
func NewStaticCache() *StaticCache { return &StaticCache{m: map[string]*staticEntry{}} }

// Len returns the number of shared results and the references plans hold
// on them.
func (c *StaticCache) Len() (entries, refs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.m {
		refs += e.refs
	}
	return len(c.m), refs
}

// get returns the entry for key with a new reference, or nil.
func (c *StaticCache) get(key string) *staticEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[key]
	if e != nil {
		e.refs++
	}
	return e
}

// publish makes out (the results of a step that just ran) the entry for
// key, with one reference for the publisher, and returns it; nil when the
// key already has an entry (another plan published first: the publisher
// keeps its own results).
func (c *StaticCache) publish(key string, outSpecs []value.Spec, out []value.Value) *staticEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] != nil {
		return nil
	}
	e := &staticEntry{c: c, key: key, outSpecs: outSpecs, out: out, refs: 1}
	c.m[key] = e
	return e
}

// acquire takes another reference on e.
func (e *staticEntry) acquire() {
	e.c.mu.Lock()
	e.refs++
	e.c.mu.Unlock()
}

// release drops a reference; the last one removes the entry.
func (e *staticEntry) release() {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if e.refs--; e.refs == 0 && e.c.m[e.key] == e {
		delete(e.c.m, e.key)
	}
}

// shareable reports whether results of these specs are plain data.
func shareable(specs []value.Spec) bool {
	for _, sp := range specs {
		if !sp.Kind.IsTensor() && !sp.Kind.IsScalar() {
			return false
		}
	}
	return true
}

// staticKey is a static step's key in Config.Static: its signature (class,
// literal inputs, upstream steps, input folder), its input specs and what
// else in the configuration makes kernels differ.
func (pl *Plan) staticKey(s *step) string {
	var b strings.Builder
	b.WriteString(s.sig)
	for _, sp := range s.inSpecs {
		fmt.Fprintf(&b, "|%s%s", sp.Kind, value.ShapeString(sp.Shape))
	}
	c := pl.cfg
	fmt.Fprintf(&b, "|registry %p|engines %T %p|models %q|confined %t|engine %+v", c.Registry, c.Engines, c.Engines, c.ModelDir, c.Confined, c.Engine)
	return b.String()
}
