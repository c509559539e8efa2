package nodes

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"comfyrt/nodes/value"
)

type fakeKernel struct{ panicIn string }

func (k *fakeKernel) Prepare(in []value.Spec) ([]value.Spec, error) {
	if k.panicIn == "Prepare" {
		panic("boom")
	}
	return in, nil
}

func (k *fakeKernel) Run(in, out []value.Value) error {
	switch k.panicIn {
	case "Run":
		var s []int
		_ = s[len(in)+3] // index out of range
	}
	copy(out, in)
	return nil
}

func (k *fakeKernel) String() string { return "Fake #9" }

func fakeFactory(Config) (Kernel, error) { return &fakeKernel{}, nil }

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	if err := r.Register("B", fakeFactory); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", fakeFactory); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", fakeFactory); !errors.Is(err, ErrDuplicateClass) {
		t.Errorf("duplicate: %v, want ErrDuplicateClass", err)
	}
	if err := r.Register("", fakeFactory); err == nil {
		t.Error("empty class accepted")
	}
	if err := r.Register("C", nil); err == nil {
		t.Error("nil factory accepted")
	}
	if got := r.Classes(); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("Classes() = %q", got)
	}
	if _, ok := r.Lookup("A"); !ok {
		t.Error("Lookup(A) failed")
	}
	if _, err := r.New(Config{NodeID: "3", Class: "Nope"}); !errors.Is(err, ErrNoImplementation) || !strings.Contains(err.Error(), "Nope #3") {
		t.Errorf("New(Nope): %v", err)
	}
	if k, err := r.New(Config{Class: "A"}); err != nil || k == nil {
		t.Errorf("New(A) = %v, %v", k, err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MustRegister of a duplicate did not panic")
			}
		}()
		r.MustRegister("A", fakeFactory)
	}()
}

// TestRegistry_concurrent hammers a registry from many goroutines (run it
// with -race).
func TestRegistry_concurrent(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				_ = r.Register(fmt.Sprintf("C%d_%d", g, i), fakeFactory)
				r.Lookup(fmt.Sprintf("C%d_%d", (g+1)%8, i))
				_ = r.Classes()
			}
		}()
	}
	wg.Wait()
	if n := len(r.Classes()); n != 400 {
		t.Errorf("%d classes, want 400", n)
	}
}

func TestSafeRun(t *testing.T) {
	in := []value.Value{value.OfInt(1)}
	out := make([]value.Value, 1)
	if err := SafeRun(&fakeKernel{}, in, out); err != nil || out[0].Int != 1 {
		t.Fatalf("SafeRun = %v, out %v", err, out[0])
	}
	if allocs := testing.AllocsPerRun(10, func() { _ = SafeRun(&fakeKernel{}, in, out) }); allocs > 1 {
		// One alloc is the &fakeKernel{} literal escaping to the interface.
		t.Errorf("SafeRun allocates %v times", allocs)
	}
	err := SafeRun(&fakeKernel{panicIn: "Run"}, in, out)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Kernel != "Fake #9" || pe.Phase != "Run" || len(pe.Stack) == 0 {
		t.Fatalf("SafeRun panic: %#v", err)
	}
	if !strings.Contains(err.Error(), "Fake #9") || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("message %q", err)
	}
	var re interface{ RuntimeError() }
	if !errors.As(err, &re) {
		t.Error("the runtime error is not reachable with errors.As")
	}
	_, err = SafePrepare(&fakeKernel{panicIn: "Prepare"}, nil)
	if !errors.As(err, &pe) || pe.Phase != "Prepare" || pe.Value != "boom" {
		t.Errorf("SafePrepare panic: %v", err)
	}
}

func TestRegistryTraits(t *testing.T) {
	r := NewRegistry()
	if err := r.SetTraits("Missing", Traits{TimeVarying: true}); !errors.Is(err, ErrNoImplementation) {
		t.Errorf("traits of an unregistered class: %v", err)
	}
	r.MustRegister("Clock", func(Config) (Kernel, error) { return nil, nil })
	if got := r.Traits("Clock"); got != (Traits{}) {
		t.Errorf("default traits %+v", got)
	}
	want := Traits{TimeVarying: true, Stateful: true}
	if err := r.SetTraits("Clock", want); err != nil {
		t.Fatal(err)
	}
	if got := r.Traits("Clock"); got != want {
		t.Errorf("traits %+v, want %+v", got, want)
	}
	if got := r.Traits("Other"); got != (Traits{}) {
		t.Errorf("traits of an unknown class %+v", got)
	}
}
