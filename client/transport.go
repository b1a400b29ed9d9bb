package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// HTTPDoer sends one HTTP request and returns its response. *http.Client
// satisfies it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// sender is the HTTPDoer the generated client is given. Each attempt waits
// for the client's throttle, is sent with its own timeout and has its body
// read within it; the sender retries as the policy allows and logs each
// attempt.
type sender struct {
	// idempotent is false for the sender of creates: a create is retried
	// only when the server provably did not process it.
	idempotent bool
	throttle   *throttle // shared by the client's senders
	next       HTTPDoer
	policy     RetryPolicy
	timeout    time.Duration
	logger     *slog.Logger
	clock      clock
}

// clock is the time and randomness the sender uses, replaced in tests.
type clock struct {
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration // a random duration in [0, d]
}

// Do sends req until it gets an answer that is final under the retry policy.
// The answer's body is already read: a failure while reading it is the
// returned response's body read error, so the status code is kept.
func (s *sender) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var wait, sleepFor time.Duration
	for retries := 0; ; retries++ {
		if retries > 0 {
			if sleepFor > 0 {
				if err := s.clock.sleep(ctx, sleepFor); err != nil {
					return nil, err
				}
			}
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				req.Body = body
			}
		}
		if err := s.throttle.wait(ctx, s.clock); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := s.clock.now()
		rsp, err := s.attempt(req)
		end := s.clock.now()
		d := retryDecision{reason: "caller's context done"}
		if ctx.Err() == nil {
			d = s.policy.shouldRetry(s.idempotent, retries, rsp, err, end, s.clock.jitter)
		}
		if s.logger != nil {
			s.log(ctx, req, rsp, err, retries+1, wait, end.Sub(start), d)
		}
		if !d.retry {
			if rsp != nil {
				return rsp, nil
			}
			return nil, err
		}
		wait, sleepFor = d.wait, d.wait
		if err == nil && rsp.StatusCode == http.StatusTooManyRequests {
			// The server is limiting this client, not this call: every
			// call waits, and this one waits there with the others.
			s.throttle.pause(end.Add(d.wait))
			sleepFor = 0
		}
	}
}

// attempt sends req once, under the per-attempt timeout, and reads the body
// before the timeout is released. On a body read error it returns both the
// response (whose body yields what was read, then the error) and the error.
func (s *sender) attempt(req *http.Request) (*http.Response, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if s.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
	}
	defer cancel()
	rsp, err := s.next.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	body, err := readBody(rsp)
	rsp.Body = newBufferedBody(body, err)
	return rsp, err
}

// bufferedBody replays a body that was read in full, or as far as it could
// be read, and then the error that ended the reading.
type bufferedBody struct {
	data []byte
	r    bytes.Reader
	err  error
}

func newBufferedBody(data []byte, err error) *bufferedBody {
	b := &bufferedBody{data: data, err: err}
	b.r.Reset(data)
	return b
}

func (b *bufferedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.err != nil {
		err = b.err
	}
	return n, err
}

func (b *bufferedBody) Close() error { return nil }

// log writes one record for one attempt. It never writes headers or bodies:
// they carry the secret key and the token.
func (s *sender) log(ctx context.Context, req *http.Request, rsp *http.Response, err error, attempt int, wait, took time.Duration, d retryDecision) {
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.EscapedPath()),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
		slog.Duration("duration", took),
	}
	level := slog.LevelInfo
	if rsp != nil {
		attrs = append(attrs, slog.Int("status", rsp.StatusCode))
		if id := rsp.Header.Get(traceHeader); id != "" {
			attrs = append(attrs, slog.String("trace_id", oneLine(id)))
		}
	}
	if err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", oneLine(err.Error())))
	}
	if d.retry {
		attrs = append(attrs, slog.String("retry", d.reason), slog.Duration("next_wait", d.wait))
	}
	s.logger.LogAttrs(ctx, level, "clerk request", attrs...)
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

// errRedirect is returned when a redirect would leave the configured host.
var errRedirect = errors.New("clerk: refusing a redirect to another host")

// sameHostRedirects is the CheckRedirect of the default HTTP client: the
// secret key is meant for one host only.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("clerk: stopped after 10 redirects")
	}
	if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
		return errRedirect
	}
	return nil
}
