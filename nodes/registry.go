package nodes

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrDuplicateClass is returned by Registry.Register for a class that
// already has a factory.
var ErrDuplicateClass = errors.New("node class already registered")

// ErrNoImplementation is returned by Registry.New for a class without a
// factory (the compiler reports it as missing_node_implementation).
var ErrNoImplementation = errors.New("no implementation for node class")

// Registry maps node classes to kernel factories. It is an instance, never
// a global: the CLI builds one (builtin.Register, stream packs) and hands
// it to the compiler. It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]Factory
	traits    map[string]Traits
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[string]Factory{}}
}

// Register adds the factory of a class. It fails with ErrDuplicateClass
// when the class already has one, and for an empty class or a nil factory.
func (r *Registry) Register(class string, f Factory) error {
	if class == "" {
		return errors.New("register: empty class name")
	}
	if f == nil {
		return fmt.Errorf("register %s: nil factory", class)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.factories == nil {
		r.factories = map[string]Factory{}
	}
	if _, dup := r.factories[class]; dup {
		return fmt.Errorf("register %s: %w", class, ErrDuplicateClass)
	}
	r.factories[class] = f
	return nil
}

// MustRegister is Register for wiring code whose classes are fixed
// (builtin.Register): it panics where Register would fail, which is a
// programming error.
func (r *Registry) MustRegister(class string, f Factory) {
	if err := r.Register(class, f); err != nil {
		panic(err)
	}
}

// Lookup returns the factory of a class.
func (r *Registry) Lookup(class string) (Factory, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.factories[class]
	return f, ok
}

// Classes returns the registered classes, sorted.
func (r *Registry) Classes() []string {
	r.mu.RLock()
	out := make([]string, 0, len(r.factories))
	for c := range r.factories {
		out = append(out, c)
	}
	r.mu.RUnlock()
	slices.Sort(out)
	return out
}

// New makes the kernel of the node cfg describes, with the factory of
// cfg.Class; it fails with ErrNoImplementation when there is none.
func (r *Registry) New(cfg Config) (Kernel, error) {
	f, ok := r.Lookup(cfg.Class)
	if !ok {
		return nil, fmt.Errorf("node %s: %w", cfg, ErrNoImplementation)
	}
	k, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", cfg, err)
	}
	if k == nil {
		return nil, fmt.Errorf("node %s: factory returned no kernel", cfg)
	}
	return k, nil
}

// SetTraits records the traits of a registered class (see Traits). It fails
// for a class without a factory.
func (r *Registry) SetTraits(class string, t Traits) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.factories[class]; !ok {
		return fmt.Errorf("set traits of %s: %w", class, ErrNoImplementation)
	}
	if r.traits == nil {
		r.traits = map[string]Traits{}
	}
	r.traits[class] = t
	return nil
}

// Traits returns the traits of a class (the zero Traits when none were
// set: a plain class, static unless its inputs depend on the frame).
func (r *Registry) Traits(class string) Traits {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.traits[class]
}
