//go:build !cgo

package ort

// LoadedSessions reports no sessions: this build loads none.
func LoadedSessions() (models, refs int) { return 0, 0 }
