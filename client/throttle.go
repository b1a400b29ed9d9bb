package client

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A Limiter spaces the attempts of a Client, and is told of the pauses a
// server asks for. Every attempt waits on it, retries included, and every
// 429 informs it. WithRateLimit makes one for the Client alone; a Limiter
// shared by many processes (package redislimit, on Redis) keeps a fleet
// that shares one Clerk key under the key's limit. A Limiter must be safe
// for concurrent use.
type Limiter interface {
	// Wait returns when an attempt may be sent, or with ctx's error, or
	// with the limiter's own (say, its store is unreachable). On an error
	// nothing is sent, and the call returns the error.
	Wait(ctx context.Context) error
	// Pause holds every attempt back until the given time, in every
	// process that shares the limiter: a 429's Retry-After applies to the
	// key, not the call.
	Pause(ctx context.Context, until time.Time)
}

// WithLimiter makes every attempt of the client wait on l, and tells l of
// every 429's pause, instead of the client's own limiter. WithRateLimit
// must not be given too. Default: the client's own (see WithRateLimit),
// which has no rate limit but pauses for 429s.
func WithLimiter(l Limiter) Option {
	return func(c *config) { c.limiter = l }
}

// localLimiter is the Limiter of one Client: a pause that a 429 asked for,
// then the rate limiter, if there is one.
type localLimiter struct {
	limiter *rate.Limiter // nil: no limit
	clock   clock

	mu    sync.Mutex
	until time.Time // no attempt starts before this
}

// Wait blocks until an attempt may start or ctx is done. A pause that
// outlasts ctx's deadline fails at once.
func (t *localLimiter) Wait(ctx context.Context) error {
	t.mu.Lock()
	until := t.until
	t.mu.Unlock()
	if d := until.Sub(t.clock.now()); d > 0 {
		if !fits(ctx, d) {
			return fmt.Errorf("%w: the client is paused for %s after a 429", context.DeadlineExceeded, d.Round(time.Millisecond))
		}
		if err := t.clock.sleep(ctx, d); err != nil {
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

// Pause holds every attempt back until the given time. A 429's Retry-After
// applies to the whole client: the calls sharing it then wait once,
// together, instead of each meeting the limit on its own.
func (t *localLimiter) Pause(_ context.Context, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.until) {
		t.until = until
	}
}
