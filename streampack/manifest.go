package streampack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"comfyrt/internal/jsonx"
)

// ManifestFile is the manifest's name at the root of a pack.
const ManifestFile = "pack.json"

// ManifestVersion is the manifest format this host reads.
const ManifestVersion = 1

// Manifest is pack.json. See docs/streampack.md for every field.
type Manifest struct {
	ManifestVersion int    `json:"manifest_version"`
	Name            string `json:"name"`
	Version         string `json:"version"`
	// Comfyrt is the comfyrt version range the pack supports: space
	// separated comparators (">=0.1.0 <0.2.0"); empty means any.
	Comfyrt     string `json:"comfyrt,omitempty"`
	Description string `json:"description,omitempty"`
	License     string `json:"license,omitempty"`
	// Nodes holds the node classes in object_info form.
	Nodes json.RawMessage `json:"nodes"`
	// Implementations maps every class of Nodes to its implementation.
	Implementations map[string]Implementation `json:"implementations"`
	Modules         map[string]Module         `json:"modules,omitempty"`
	Models          map[string]Model          `json:"models,omitempty"`
	Workflows       []string                  `json:"workflows,omitempty"`
	Tests           []Test                    `json:"tests,omitempty"`
}

// Implementation says how a class runs: exactly one of WASM and ONNX.
type Implementation struct {
	WASM *WASMImpl `json:"wasm,omitempty"`
	ONNX *ONNXImpl `json:"onnx,omitempty"`
}

// WASMImpl binds a class to a module of Manifest.Modules; the guest gets
// the class name (as the manifest spells it) in its prepare request.
type WASMImpl struct {
	Module string `json:"module"`
}

// ONNXImpl binds a class to a model of Manifest.Models, run by the generic
// image-model kernel with this pre- and post-processing. The class has one
// IMAGE input and IMAGE and/or MASK outputs.
type ONNXImpl struct {
	Model string `json:"model"`
	// Width and Height of the model input (0: the model's fixed size).
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// Layout is NCHW (default) or NHWC; Channels RGB (default) or BGR.
	Layout   string `json:"layout,omitempty"`
	Channels string `json:"channels,omitempty"`
	// Mean and Std are "r,g,b" in 0..1 units (defaults "0,0,0" and
	// "1,1,1"): the model input is (x−mean)/std.
	Mean string `json:"mean,omitempty"`
	Std  string `json:"std,omitempty"`
	// OutputScale is clamp (default) or minmax.
	OutputScale string `json:"output_scale,omitempty"`
	// Device is default (the CLI's --device), cpu, cuda or tensorrt.
	Device string `json:"device,omitempty"`
}

// Module is a WASM module of the pack.
type Module struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// ABI is the host ABI version the module is built for (1).
	ABI int `json:"abi"`
	// MemoryMB caps the module's linear memory (default 256, at most
	// 4096).
	MemoryMB int `json:"memory_mb,omitempty"`
	// TimeoutMS is the deadline of one Run call (default 1000); prepare
	// calls get ten times as long.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// Grants lists the capabilities the module gets beyond the sandbox:
	// "clock" (the real wall and monotonic clocks). Nothing else exists.
	Grants []string `json:"grants,omitempty"`
	// Source documents where the module is built from (a Go package);
	// the host does not read it.
	Source string `json:"source,omitempty"`
}

// Model is a model file of the pack: bundled at File, or fetched from URL
// into File by `comfyrt pack install` and verified.
type Model struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	URL    string `json:"url,omitempty"`
}

// Test is one test of the pack: a workflow run on input pictures (or a
// clip) whose frame outputs are compared with the expected pictures.
type Test struct {
	Name     string `json:"name"`
	Workflow string `json:"workflow"`
	// Inputs are pictures (PNG/JPEG), each run as one frame.
	Inputs []string `json:"inputs,omitempty"`
	// Clip is a video clip run through the video executor.
	Clip string `json:"clip,omitempty"`
	// Expected are the expected frame outputs, one per input (or per clip
	// frame), in order.
	Expected  []string  `json:"expected"`
	Tolerance Tolerance `json:"tolerance"`
}

// Tolerance is how far an output may be from the expected frame: a PSNR
// (dB) of at least PSNR and no element further than MaxAbs (0..1 units).
// Zero fields take the defaults (40 dB, 2/255).
type Tolerance struct {
	PSNR   float64 `json:"psnr,omitempty"`
	MaxAbs float64 `json:"max_abs,omitempty"`
}

// WithDefaults returns t with zero fields set to the defaults.
func (t Tolerance) WithDefaults() Tolerance {
	if t.PSNR == 0 {
		t.PSNR = 40
	}
	if t.MaxAbs == 0 {
		t.MaxAbs = 2.0 / 255
	}
	return t
}

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	hashRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	classRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.+-]{0,127}$`)
)

// ParseManifest decodes and checks a manifest. Unknown fields are errors
// (they are typos more often than extensions: a later format gets a new
// manifest_version).
func ParseManifest(data []byte) (*Manifest, error) {
	m, err := decodeManifest(data)
	if err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeManifest decodes a manifest without checking its values: valid
// JSON, no key given twice, a manifest_version this host reads, no unknown
// field.
func decodeManifest(data []byte) (*Manifest, error) {
	var probe struct {
		V *int `json:"manifest_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidManifest, err)
	}
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	if probe.V == nil {
		return nil, fmt.Errorf("%w: no manifest_version", ErrInvalidManifest)
	}
	if *probe.V != ManifestVersion {
		return nil, fmt.Errorf("%w %d (this comfyrt reads %d)", ErrManifestVersion, *probe.V, ManifestVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	m := &Manifest{}
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidManifest, err)
	}
	return m, nil
}

// checkDuplicateKeys refuses an object that gives a key twice, at any
// depth of data (valid JSON, at most encoding/json's nesting depth), and a
// key of a manifest struct spelled with another case than its field.
//
// encoding/json keeps the last of two equal keys silently, and it matches
// struct fields ignoring case: a reviewer reading "name" would approve one
// pack and comfyrt would install the "Name" that follows it. So keys that
// are equal ignoring case (encoding/json's folding: Unicode simple case
// folding, so "ſ" is "s" and "K" (Kelvin) is "k") count as the same key in
// every object, and a key that names a field of Manifest (or of a type
// inside it) must spell it exactly.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := duplicateKeys(dec, data, "", reflect.TypeFor[Manifest]()); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	return nil
}

// duplicateKeyError is a key given twice in one object (Key; Same is the
// first spelling when it differs only in case): its JSON pointer and the
// positions of both.
type duplicateKeyError struct {
	Key, Same, Pointer string
	First, Again       jsonx.Pos
}

func (e *duplicateKeyError) Error() string {
	same := ""
	if e.Same != e.Key {
		same = fmt.Sprintf(", the same as %q ignoring case", e.Same)
	}
	return fmt.Sprintf("duplicate key %q at %s (line %d, column %d%s; first given at line %d, column %d)",
		e.Key, e.Pointer, e.Again.Line, e.Again.Col, same, e.First.Line, e.First.Col)
}

// fieldCaseError is a key that names a field of the manifest with another
// case.
type fieldCaseError struct {
	Key, Field, Pointer string
	At                  jsonx.Pos
}

func (e *fieldCaseError) Error() string {
	return fmt.Sprintf("key %q at %s (line %d, column %d): the field is %q (keys are case-sensitive)",
		e.Key, e.Pointer, e.At.Line, e.At.Col, e.Field)
}

// foldKey folds a key the way encoding/json compares field names: every
// rune becomes the smallest rune of its simple case-folding orbit, so
// foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b).
func foldKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// jsonFields maps the folded JSON names of a struct's fields to their
// names.
func jsonFields(t reflect.Type) map[string]string {
	out := map[string]string{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[foldKey(name)] = name
	}
	return out
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// keyType is the type that the value of key decodes into in an object of
// type t (nil: not a manifest type, keys are not checked).
func keyType(t reflect.Type, key string) reflect.Type {
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == key && f.IsExported() {
				return f.Type
			}
		}
	}
	return nil
}

// duplicateKeys reads one value from dec, whose JSON pointer is ptr and
// which decodes into t (nil: not checked against a type).
func duplicateKeys(dec *json.Decoder, data []byte, ptr string, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		t = nil
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		type first struct {
			key string
			off int64
		}
		seen := map[string]first{}
		var fields map[string]string
		if t != nil && t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		for dec.More() {
			off := dec.InputOffset()
			for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
				off++
			}
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			child := ptr + jsonx.Pointer(k)
			fk := foldKey(k)
			if f, ok := seen[fk]; ok {
				fl, fc := jsonx.LineCol(data, f.off)
				al, ac := jsonx.LineCol(data, off)
				return &duplicateKeyError{Key: k, Same: f.key, Pointer: child, First: jsonx.Pos{Line: fl, Col: fc}, Again: jsonx.Pos{Line: al, Col: ac}}
			}
			seen[fk] = first{k, off}
			if name, ok := fields[fk]; ok && name != k {
				l, c := jsonx.LineCol(data, off)
				return &fieldCaseError{Key: k, Field: name, Pointer: child, At: jsonx.Pos{Line: l, Col: c}}
			}
			var ct reflect.Type
			if t != nil {
				ct = keyType(t, k)
			}
			if err := duplicateKeys(dec, data, child, ct); err != nil {
				return err
			}
		}
	case '[':
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := duplicateKeys(dec, data, ptr+"/"+strconv.Itoa(i), et); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// problems collects what is wrong with a manifest, in the manifest's
// order; unsealed names the modules and models without a sha256.
type problems struct{ errs, unsealed []string }

func (p *problems) bad(format string, a ...any) { p.errs = append(p.errs, fmt.Sprintf(format, a...)) }

// file checks a module's or model's file entry (where: "models.NAME");
// one without a sha256 is unsealed.
func (p *problems) file(where, file, sum string, size int64) {
	if sum == "" {
		p.unsealed = append(p.unsealed, where)
	}
	checkFile(p.bad, where, file, sum, size)
}

func (m *Manifest) check() error {
	var p problems
	m.checkHead(&p)
	m.checkImplementations(&p, m.checkClasses(&p))
	m.checkModules(&p)
	m.checkModels(&p)
	for i, w := range m.Workflows {
		if err := checkRel(w); err != nil {
			p.bad("workflows[%d]: %v", i, err)
		}
	}
	m.checkTests(&p)
	errs := p.errs
	if len(p.unsealed) > 0 {
		errs = append([]string{fmt.Sprintf("%v: %s have no sha256 and size yet", ErrUnsealed, strings.Join(p.unsealed, ", "))}, errs...)
	}
	if len(errs) == 0 {
		return nil
	}
	return manifestErrors(errs)
}

// checkHead checks the name, the version and the comfyrt range.
func (m *Manifest) checkHead(p *problems) {
	if !nameRE.MatchString(m.Name) {
		p.bad("name %q: want lower-case letters, digits, '.', '_' or '-' (at most 64)", m.Name)
	}
	if _, err := parseSemver(m.Version); err != nil {
		p.bad("version %q: %v", m.Version, err)
	}
	if _, err := parseRange(m.Comfyrt); err != nil {
		p.bad("comfyrt %q: %v", m.Comfyrt, err)
	}
}

// checkClasses checks the classes of nodes and returns them.
func (m *Manifest) checkClasses(p *problems) []string {
	classes, err := nodeClasses(m.Nodes)
	if err != nil {
		p.bad("nodes: %v", err)
	}
	for _, c := range classes {
		if !classRE.MatchString(c) {
			p.bad("nodes: class name %q: want letters, digits, '_', '.', '+' or '-'", c)
		}
		if _, ok := m.Implementations[c]; !ok {
			p.bad("nodes: class %s has no implementation", c)
		}
	}
	return classes
}

// checkImplementations checks that each implementation is of a class,
// names a module or a model of the manifest, and has valid ONNX options.
func (m *Manifest) checkImplementations(p *problems, classes []string) {
	for _, c := range sortedKeys(m.Implementations) {
		impl := m.Implementations[c]
		if !slices.Contains(classes, c) {
			p.bad("implementations: %s is not a class of nodes", c)
		}
		switch {
		case (impl.WASM == nil) == (impl.ONNX == nil):
			p.bad("implementations: %s: give exactly one of wasm and onnx", c)
		case impl.WASM != nil:
			if _, ok := m.Modules[impl.WASM.Module]; !ok {
				p.bad("implementations: %s: module %q is not in modules", c, impl.WASM.Module)
			}
		case impl.ONNX != nil:
			m.checkONNX(p, c, impl.ONNX)
		}
	}
}

func (m *Manifest) checkONNX(p *problems, c string, o *ONNXImpl) {
	if _, ok := m.Models[o.Model]; !ok {
		p.bad("implementations: %s: model %q is not in models", c, o.Model)
	}
	if o.Width < 0 || o.Height < 0 {
		p.bad("implementations: %s: width and height must be 0 or positive", c)
	}
	checkChoice := func(field, v string, choices ...string) {
		if v != "" && !slices.Contains(choices, v) {
			p.bad("implementations: %s: %s %q: want one of %s", c, field, v, strings.Join(choices, ", "))
		}
	}
	checkChoice("layout", o.Layout, "NCHW", "NHWC")
	checkChoice("channels", o.Channels, "RGB", "BGR")
	checkChoice("output_scale", o.OutputScale, "clamp", "minmax")
	checkChoice("device", o.Device, "default", "cpu", "cuda", "tensorrt")
}

// checkModules checks each WASM module's file, ABI and sandbox settings.
func (m *Manifest) checkModules(p *problems) {
	for _, name := range sortedKeys(m.Modules) {
		mod := m.Modules[name]
		p.file("modules."+name, mod.File, mod.SHA256, mod.Size)
		if mod.ABI != ABIVersion {
			p.errs = append(p.errs, fmt.Sprintf("modules.%s: %v %d (this comfyrt supports %d)", name, ErrABIVersion, mod.ABI, ABIVersion))
		}
		if mod.MemoryMB < 0 || mod.MemoryMB > 4096 {
			p.bad("modules.%s: memory_mb %d: want 1..4096 (0: 256)", name, mod.MemoryMB)
		}
		if mod.TimeoutMS < 0 {
			p.bad("modules.%s: timeout_ms must not be negative", name)
		}
		for _, g := range mod.Grants {
			if g != GrantClock {
				p.bad("modules.%s: unknown grant %q (the only grant is %q)", name, g, GrantClock)
			}
		}
	}
}

// checkModels checks each model's file and URL.
func (m *Manifest) checkModels(p *problems) {
	for _, name := range sortedKeys(m.Models) {
		md := m.Models[name]
		p.file("models."+name, md.File, md.SHA256, md.Size)
		if md.URL != "" && !strings.HasPrefix(md.URL, "https://") && !strings.HasPrefix(md.URL, "http://") {
			p.bad("models.%s: url %q: want http(s)", name, md.URL)
		}
	}
}

// checkTests checks the tests: unique names, paths inside the pack,
// pictures or a clip, one expected frame per picture, tolerances.
func (m *Manifest) checkTests(p *problems) {
	seen := map[string]bool{}
	for i, t := range m.Tests {
		where := fmt.Sprintf("tests[%d]", i)
		if t.Name == "" {
			p.bad("%s: no name", where)
		} else if seen[t.Name] {
			p.bad("%s: name %q used twice", where, t.Name)
		}
		seen[t.Name] = true
		paths := append(append([]string{t.Workflow}, t.Inputs...), t.Expected...)
		if t.Clip != "" {
			paths = append(paths, t.Clip)
		}
		for _, f := range paths {
			if err := checkRel(f); err != nil {
				p.bad("%s: %v", where, err)
			}
		}
		if (len(t.Inputs) == 0) == (t.Clip == "") {
			p.bad("%s: give inputs (pictures) or a clip", where)
		}
		if len(t.Inputs) > 0 && len(t.Expected) != len(t.Inputs) {
			p.bad("%s: %d inputs but %d expected frames", where, len(t.Inputs), len(t.Expected))
		}
		if t.Tolerance.PSNR < 0 || t.Tolerance.MaxAbs < 0 {
			p.bad("%s: tolerances must not be negative", where)
		}
	}
}

// manifestErrors joins the problems of a manifest into one error that
// wraps ErrInvalidManifest, and ErrUnsealed, ErrABIVersion and
// ErrPathEscape when one of the problems is about them.
func manifestErrors(errs []string) error {
	e := &manifestError{msg: strings.Join(errs, "; "), wraps: []error{ErrInvalidManifest}}
	for _, sentinel := range []error{ErrUnsealed, ErrABIVersion, ErrPathEscape} {
		for _, m := range errs {
			if strings.Contains(m, sentinel.Error()) {
				e.wraps = append(e.wraps, sentinel)
				break
			}
		}
	}
	return e
}

type manifestError struct {
	msg   string
	wraps []error
}

func (e *manifestError) Error() string   { return ErrInvalidManifest.Error() + ": " + e.msg }
func (e *manifestError) Unwrap() []error { return e.wraps }

func checkFile(bad func(string, ...any), where, file, sum string, size int64) {
	if err := checkRel(file); err != nil {
		bad("%s: %v", where, err)
	}
	if sum == "" {
		return // unsealed: one error for them all (check)
	}
	if !hashRE.MatchString(sum) {
		bad("%s: sha256 %q: want 64 lower-case hex digits", where, sum)
	}
	if size <= 0 {
		bad("%s: size must be positive", where)
	}
}

// checkRel checks a manifest path: relative, slash-separated, clean, no
// "..".
func checkRel(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("empty path")
	case strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || (len(p) > 1 && p[1] == ':'):
		return fmt.Errorf("%w: %q is absolute", ErrPathEscape, p)
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") || slices.Contains(strings.Split(p, "/"), "..") {
		return fmt.Errorf("%w: %q has a '..' element", ErrPathEscape, p)
	}
	return nil
}

// nodeClasses lists the class names of the object_info object.
func nodeClasses(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("want an object_info object: %v", err)
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("no classes")
	}
	out := make([]string, 0, len(top))
	for k, v := range top {
		if len(v) == 0 || v[0] != '{' {
			return nil, fmt.Errorf("class %s: want an object", k)
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// semver is a version's major, minor and patch (pre-release and build
// parts are accepted and ignored for ranges).
type semver [3]int

var semverRE = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$`)

func parseSemver(s string) (semver, error) {
	m := semverRE.FindStringSubmatch(s)
	if m == nil {
		return semver{}, fmt.Errorf("not a semantic version (MAJOR.MINOR.PATCH)")
	}
	var v semver
	for i := range 3 {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, nil
}

func (v semver) cmp(o semver) int {
	for i := range 3 {
		if v[i] != o[i] {
			if v[i] < o[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

type comparator struct {
	op string
	v  semver
}

// parseRange reads space-separated comparators (>=, >, <=, <, =, or a bare
// version meaning =). An empty range matches every version.
func parseRange(s string) ([]comparator, error) {
	var out []comparator
	for _, f := range strings.Fields(s) {
		op := ""
		for _, o := range []string{">=", "<=", ">", "<", "="} {
			if strings.HasPrefix(f, o) {
				op = o
				break
			}
		}
		v, err := parseSemver(strings.TrimPrefix(f, op))
		if err != nil {
			return nil, fmt.Errorf("%q: %v", f, err)
		}
		if op == "" {
			op = "="
		}
		out = append(out, comparator{op, v})
	}
	return out, nil
}

// Supports reports whether the manifest's comfyrt range admits version
// (its pre-release part ignored).
func (m *Manifest) Supports(version string) (bool, error) {
	r, err := parseRange(m.Comfyrt)
	if err != nil {
		return false, err
	}
	v, err := parseSemver(version)
	if err != nil {
		return false, fmt.Errorf("comfyrt version %q: %v", version, err)
	}
	for _, c := range r {
		d := v.cmp(c.v)
		ok := false
		switch c.op {
		case ">=":
			ok = d >= 0
		case ">":
			ok = d > 0
		case "<=":
			ok = d <= 0
		case "<":
			ok = d < 0
		case "=":
			ok = d == 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
