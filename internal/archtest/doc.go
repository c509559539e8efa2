// Package archtest holds the project's architecture rules as tests, the one
// copy of them (rules_test.go): for every package, the project packages it
// may import directly, those its production build must never reach even
// transitively (go list -deps, DESIGN.md's "never"), and those its tests
// may import; test-only packages (internal/testkit,
// internal/onnxgen, the trickle test server) never in a production build
// (rules_symbols_test.go covers the trickle server while it lives inside
// internal/trickle); every diagnostic code declared in graph/diag;
// unsafe, cgo and each third-party module confined to the packages that
// need them. A new package or module needs a row. It has no non-test code
// and may import nothing from the project.
package archtest
