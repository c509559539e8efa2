package media

import (
	"context"
	"time"
)

// WaitUntil waits until the wall-clock time due (a paced source's next
// frame) or until ctx is done, whichever comes first; it returns ctx's
// error in the second case. A time already past returns at once.
func WaitUntil(ctx context.Context, due time.Time) error {
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
