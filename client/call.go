package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// caller runs the calls of one Client with what New decided. It is never
// changed after New.
type caller struct {
	server   string // the base URL with a trailing slash, as the builders want it
	basePath string // the base URL's path without it, cut from paths in errors
	doer     HTTPDoer
	// setHeaders sets the headers of every request. The key lives only in
	// this closure: fmt never prints what a func holds.
	setHeaders func(*http.Request)
	policy     RetryPolicy
	timeout    time.Duration
	throttle   *throttle
	logger     *slog.Logger
	clock      clock
}

// call runs one call of op, in the order the stages' files are named:
// check the input, send it until an answer is final (send below: throttle.go,
// request.go, attempt.go, retry.go) and map that answer to the model,
// decoded into dst, or a typed error (answer.go, errors.go).
func call[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I, dst *T) (*http.Response, error) {
	if err := op.check(in); err != nil {
		return nil, err
	}
	a, err := send(ctx, c, op, in)
	switch {
	case a.req == nil:
		// Nothing was sent: the context ended before the first attempt,
		// or the request could not be built.
		return nil, fmt.Errorf("clerk: %w", err)
	case err != nil:
		return nil, fmt.Errorf("clerk: %s %s: %w", a.req.Method, c.apiPath(a.req), err)
	}
	a.rsp.Request = forgetKey(a.req)
	return a.rsp, mapAnswer(op.bodies, op.valid, &a, a.req.Method, c.apiPath(a.req), dst)
}

// send sends op's request for in until an answer is final under the retry
// policy: each attempt waits for the client's throttle, is built and sent
// with its own deadline, and has its body read within it. It returns the
// final answer, or with the last request sent, its transport error or the
// context's error.
func send[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (answer, error) {
	var a answer
	var wait time.Duration
	for retries := 0; ; retries++ {
		if err := c.throttle.wait(ctx, c.clock); err != nil {
			return a, err
		}
		if err := ctx.Err(); err != nil {
			return a, err
		}
		start := c.clock.now()
		var err error
		a, err = attempt(ctx, c, op, in)
		if a.req == nil {
			return a, err
		}
		end := c.clock.now()
		d := retryDecision{reason: "caller's context done"}
		if ctx.Err() == nil {
			d = c.policy.shouldRetry(op.idempotent, retries, &a, err, c.clock.jitter)
		}
		if c.logger != nil {
			c.log(ctx, &a, err, retries+1, wait, end.Sub(start), d)
		}
		if !d.retry {
			return a, err
		}
		wait = d.wait
		if err := c.pause(ctx, &a, end, d.wait); err != nil {
			return a, err
		}
	}
}

// pause waits before a retry. After a 429 the server is limiting this
// client, not this call: every call of the client waits, and this one waits
// there with the others.
func (c *caller) pause(ctx context.Context, a *answer, now time.Time, d time.Duration) error {
	if a.rsp != nil && a.rsp.StatusCode == http.StatusTooManyRequests {
		c.throttle.pause(now.Add(d))
		return nil
	}
	return c.clock.sleep(ctx, d)
}

// apiPath is the request's path without the base URL's: what the document
// calls the operation's path, such as /sign_in_tokens/sit_123/revoke.
func (c *caller) apiPath(req *http.Request) string {
	return strings.TrimPrefix(req.URL.EscapedPath(), c.basePath)
}

// clock is the time and randomness of retries and the throttle, replaced in
// tests.
type clock struct {
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration // a random duration in [0, d]
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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
