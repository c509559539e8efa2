//go:build !cgo

package av

import (
	"context"
	"errors"
	"testing"

	"comfyrt/executor/media"
)

func TestStubUnavailable(t *testing.T) {
	if _, err := OpenSource("x.mp4", SourceOptions{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("OpenSource: %v", err)
	}
	if _, err := CreateSink("x.mp4", media.StreamInfo{Width: 2, Height: 2}, SinkOptions{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("CreateSink: %v", err)
	}
	var s Source
	if err := s.ReadFrame(context.Background(), &media.Frame{}); !media.IsFatal(err) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ReadFrame: %v", err)
	}
}
