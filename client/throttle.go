package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle is shared by every call of one Client. Each attempt waits for
// it: first for a pause that a 429 asked for, then for the rate limiter, if
// there is one.
type throttle struct {
	limiter *rate.Limiter // nil: no limit

	mu    sync.Mutex
	until time.Time // no attempt starts before this
}

// wait blocks until an attempt may start or ctx is done.
func (t *throttle) wait(ctx context.Context, cl clock) error {
	t.mu.Lock()
	until := t.until
	t.mu.Unlock()
	if d := until.Sub(cl.now()); d > 0 {
		if !fits(ctx, d) {
			return fmt.Errorf("%w: the client is paused for %s after a 429", context.DeadlineExceeded, d.Round(time.Millisecond))
		}
		if err := cl.sleep(ctx, d); err != nil {
			return err
		}
	}
	if t.limiter == nil {
		return nil
	}
	if err := t.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The limiter fails at once when the wait would outlast the deadline.
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return nil
}

// pause holds every attempt back until the given time. A 429's Retry-After
// applies to the whole client: the calls sharing it then wait once,
// together, instead of each meeting the limit on its own.
func (t *throttle) pause(until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.until) {
		t.until = until
	}
}
