//go:build cgo

package ort

// Test-only access to the environment and the sharing cache, for the
// external tests of this package.
var (
	Shutdown       = shutdown
	SharedSessions = sharedSessions
)
