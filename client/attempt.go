package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// HTTPDoer sends one HTTP request and returns its response. *http.Client
// satisfies it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// maxBodyBytes caps how much of an answer is read. A sign-in token answer is
// well under 2 KiB; a larger body is an error rather than something to hold.
const maxBodyBytes = 1 << 20

// An answer is what one attempt sent and got back.
type answer struct {
	req *http.Request // the request sent, the doer's; nil if it could not be built
	// notSent is set when the request provably did not leave: a create
	// whose body the transport never read a byte of.
	notSent bool
	// rsp is the response, with its body already read (at most
	// maxBodyBytes+1 bytes of it, into body) and closed; nil when the
	// attempt failed in transport.
	rsp     *http.Response
	body    []byte
	readErr error // what ended reading the body early, if anything
	// otherRequest is set when rsp says it answers a request with another
	// method than the one sent: a doer that is not an *http.Client
	// followed a redirect (a POST turned into a GET).
	otherRequest bool
	// retryAfter is the Retry-After header's wait; hasRetryAfter says
	// whether there was a readable one.
	retryAfter    time.Duration
	hasRetryAfter bool
}

// attempt builds op's request for in and sends it once under the
// per-attempt deadline, reading the body before that deadline is released.
// It returns an error with an answer that has no response: the request
// could not be built (no req either) or sent. A failure while reading the
// body is the answer's readErr, so that the status code is kept.
func attempt[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (answer, error) {
	ctx, cancel := c.attemptContext(ctx)
	if cancel != nil {
		defer cancel()
	}
	req, body, err := newRequest(ctx, c, op, in)
	if err != nil {
		return answer{}, err
	}
	rsp, err := c.doer.Do(req)
	switch {
	case err != nil:
		if rsp != nil && rsp.Body != nil {
			rsp.Body.Close()
		}
		return answer{req: req, notSent: body != nil && body.seal() == 0}, err
	case rsp == nil:
		return answer{req: req}, errors.New("the HTTP doer returned neither a response nor an error")
	case rsp.Body == nil:
		rsp.Body = http.NoBody
	}
	a := answer{req: req, rsp: rsp, otherRequest: rsp.Request != nil && rsp.Request.Method != req.Method}
	a.retryAfter, a.hasRetryAfter = retryAfterValue(rsp.Header, c.clock.now())
	if !hasBody(rsp.StatusCode) {
		// A 1XX's body is the raw connection, which no deadline closes,
		// and a 3XX's is not an answer: close them unread.
		rsp.Body.Close()
	} else {
		a.body, a.readErr = readBody(ctx, rsp, c.watchBodies)
	}
	rsp.Body = http.NoBody
	return a, nil
}

// attemptContext bounds one attempt by the client's timeout. When the
// caller's deadline ends first, it is bound enough: no timer is made.
func (c *caller) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return ctx, nil
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.timeout {
		return ctx, nil
	}
	return context.WithTimeout(ctx, c.timeout)
}

// hasBody reports whether an answer with this status is read: never a 1XX
// (a 101's body is the connection itself) nor a 3XX.
func hasBody(status int) bool {
	return status >= 200 && (status < 300 || status >= 400)
}

// readBody reads at most maxBodyBytes+1 bytes of a response body and closes
// it, so that a body over the cap can be told apart from one exactly at it.
// net/http's transport ends a body's Read when the request's context ends;
// another doer's body may not, and a blocked Read ends only when its body
// closes: with watch set, the body is closed at ctx's deadline.
func readBody(ctx context.Context, rsp *http.Response, watch bool) ([]byte, error) {
	defer rsp.Body.Close()
	var watcher *time.Timer
	if deadline, ok := ctx.Deadline(); ok && watch {
		watcher = time.AfterFunc(time.Until(deadline), func() { rsp.Body.Close() })
	}
	buf, err := readAtMost(rsp)
	switch {
	case watcher != nil && !watcher.Stop() && err != nil:
		// The deadline closed the body, maybe before ctx's own timer ended ctx.
		err = context.DeadlineExceeded
	case err != nil && ctx.Err() != nil:
		err = ctx.Err()
	}
	return buf, err
}

// readAtMost reads at most maxBodyBytes+1 bytes of the body.
func readAtMost(rsp *http.Response) ([]byte, error) {
	// Size the buffer from Content-Length, plus one byte so that io.EOF
	// arrives without a second allocation.
	size := 512
	if n := rsp.ContentLength; n >= 0 && n <= maxBodyBytes {
		size = int(n) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rsp.Body.Read(buf[len(buf):min(cap(buf), maxBodyBytes+1)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > maxBodyBytes, err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}
