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
// check the input, build the request (request.go), send it until an answer
// is final (send below: throttle.go, attempt.go, retry.go) and map that
// answer to a token or a typed error (answer.go, errors.go).
func call[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (*http.Response, *T, error) {
	if err := op.check(in); err != nil {
		return nil, nil, err
	}
	req, err := newRequest(c, op, in)
	if err != nil {
		return nil, nil, err
	}
	a, err := c.send(ctx, op.idempotent, req)
	if err != nil {
		return nil, nil, fmt.Errorf("clerk: %s %s: %w", req.Method, c.apiPath(req), err)
	}
	a.rsp.Request = publicRequest(req)
	v, err := mapAnswer(op.bodies, op.valid, a, req.Method, c.apiPath(req))
	return a.rsp, v, err
}

// send sends req until an answer is final under the retry policy: each
// attempt waits for the client's throttle, is sent with its own deadline and
// has its body read within it. It returns the final answer, or the transport
// error of the last attempt, or the context's error.
func (c *caller) send(ctx context.Context, idempotent bool, req *http.Request) (*answer, error) {
	var wait time.Duration
	for retries := 0; ; retries++ {
		if err := c.throttle.wait(ctx, c.clock); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := c.clock.now()
		a, err := c.attempt(ctx, req)
		end := c.clock.now()
		d := retryDecision{reason: "caller's context done"}
		if ctx.Err() == nil {
			d = c.policy.shouldRetry(idempotent, retries, a, err, c.clock.jitter)
		}
		if c.logger != nil {
			c.log(ctx, req, a, err, retries+1, wait, end.Sub(start), d)
		}
		if !d.retry {
			return a, err
		}
		wait = d.wait
		if err := c.pause(ctx, a, end, d.wait); err != nil {
			return nil, err
		}
		if err := rewind(req); err != nil {
			return nil, err
		}
	}
}

// pause waits before a retry. After a 429 the server is limiting this
// client, not this call: every call of the client waits, and this one waits
// there with the others.
func (c *caller) pause(ctx context.Context, a *answer, now time.Time, d time.Duration) error {
	if a != nil && a.rsp.StatusCode == http.StatusTooManyRequests {
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
