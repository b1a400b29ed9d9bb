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
	// setHeaders sets the headers of every request (see headerSetter).
	setHeaders func(*http.Request, *[4]string)
	kept       keptHeaders
	// watchBodies is set when the doer is not known to end a response
	// body's Read at the request's deadline (see readBody).
	watchBodies bool
	// redact replaces the key in text from outside (see keyRedactor).
	redact  func(string) string
	policy  RetryPolicy
	timeout time.Duration
	limiter Limiter
	logger  *slog.Logger
	clock   clock
}

// call runs one call of op, in the order the stages' files are named:
// check the input, send it until an answer is final (send below: throttle.go,
// request.go, attempt.go, retry.go) and map that answer to the model,
// decoded into dst, or a typed error (answer.go, errors.go). The response
// keeps, as its Request, kept: a copy of the request sent, without the key.
func call[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I, dst *T, kept *http.Request) (*http.Response, error) {
	if err := op.check(in); err != nil {
		return nil, err
	}
	a, err := send(ctx, c, op, in)
	if a.req == nil {
		// Nothing was sent: the context ended before the first attempt,
		// or the request could not be built.
		return nil, fmt.Errorf("clerk: %w", err)
	}
	o := origin{method: a.req.Method, path: c.apiPath(a.req), maybeCreated: !op.idempotent && !a.notSent, redact: c.redact}
	if a.rsp == nil {
		return nil, newRequestError(&o, err)
	}
	a.rsp.Request = c.kept.keep(kept, a.req)
	mapped := mapAnswer(op.bodies, op.valid, &a, &o, dst)
	if e, ok := mapped.(*APIError); ok && err != nil && e.err == nil {
		// The answer asked for another attempt, and the wait for it ended
		// the call: the answer's error says why it is final.
		e.err, e.errText = err, o.redact(err.Error())
	}
	return a.rsp, mapped
}

// send sends op's request for in until an answer is final under the retry
// policy: each attempt waits for the client's limiter, is built and sent
// with its own deadline, and has its body read within it. It returns the
// last attempt's answer: with a response, final, and err says what ended
// the wait for another attempt if one was due; without one, err is its
// transport error; without a request, nothing was sent and err says why.
func send[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (answer, error) {
	var a answer
	var sendErr error // the last attempt's transport error
	var wait time.Duration
	for retries := 0; ; retries++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return a, waitEnded(sendErr, err)
		}
		if err := ctx.Err(); err != nil {
			return a, waitEnded(sendErr, err)
		}
		start := c.clock.now()
		a, sendErr = attempt(ctx, c, op, in)
		if a.req == nil {
			return a, sendErr
		}
		end := c.clock.now()
		d := retryDecision{reason: "caller's context done"}
		if ctx.Err() == nil {
			d = c.policy.shouldRetry(op.idempotent, retries, &a, sendErr, c.clock.jitter)
		}
		if d.retry && !fits(ctx, d.wait) {
			d = retryDecision{reason: "the wait for another attempt would outlast the caller's deadline"}
		}
		c.pauseAfter429(ctx, &a, end, retries, d)
		if c.logger != nil {
			c.log(ctx, &a, sendErr, retries+1, wait, end.Sub(start), d)
		}
		if !d.retry {
			return a, sendErr
		}
		wait = d.wait
		if a.rsp == nil || a.rsp.StatusCode != http.StatusTooManyRequests {
			// After a 429 the limiter holds this call back with the others.
			if err := c.clock.sleep(ctx, d.wait); err != nil {
				return a, waitEnded(sendErr, err)
			}
		}
	}
}

// waitEnded is what send returns when waiting for another attempt ended
// with err: err, after the last attempt's transport error if there was one.
func waitEnded(sendErr, err error) error {
	if sendErr == nil {
		return err
	}
	return fmt.Errorf("%w; then waiting to try again: %w", sendErr, err)
}

// fits reports whether a wait of d ends before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= d
}

// pauseAfter429 pauses every call of the client after a 429, whether or not
// this call tries again: the server is limiting the client, not the call.
// The pause lasts the answer's Retry-After, else the wait the policy gives.
func (c *caller) pauseAfter429(ctx context.Context, a *answer, now time.Time, retries int, d retryDecision) {
	if a.rsp == nil || a.rsp.StatusCode != http.StatusTooManyRequests {
		return
	}
	pause := d.wait
	switch {
	case a.hasRetryAfter:
		pause = a.retryAfter
	case !d.retry:
		pause = c.policy.backoff(retries, c.clock.jitter)
	}
	c.limiter.Pause(ctx, now.Add(pause))
}

// apiPath is the request's path without the base URL's: what the document
// calls the operation's path, such as /sign_in_tokens/sit_123/revoke.
func (c *caller) apiPath(req *http.Request) string {
	return strings.TrimPrefix(req.URL.EscapedPath(), c.basePath)
}

// clock is the time and randomness of retries and the local limiter, replaced in
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
