package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"syscall"
	"time"
)

// RetryPolicy says how often and how long to wait before sending a request
// again. Which answers are retried is fixed per operation (see the package
// documentation): a retried Create must never make a second token.
//
// The zero RetryPolicy sends every request once.
type RetryPolicy struct {
	// MaxRetries is how many times a request may be sent again after the
	// first attempt; 0 means never.
	MaxRetries int
	// InitialInterval is the wait before the first retry; each further wait
	// doubles it, up to MaxInterval. Waits are jittered: each is between half
	// the interval and the whole of it.
	InitialInterval time.Duration
	// MaxInterval caps the wait between two attempts.
	MaxInterval time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for. A longer
	// one ends the call at once with an *APIError whose RetryAfter is set.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the policy a client uses unless told otherwise:
// 2 retries, waits from 500 ms doubling up to 8 s, and Retry-After honoured
// up to 10 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:      2,
		InitialInterval: 500 * time.Millisecond,
		MaxInterval:     8 * time.Second,
		MaxRetryAfter:   10 * time.Second,
	}
}

// retryDecision is the outcome of shouldRetry: whether to try again, why (for
// logs and tests), and how long to wait first.
type retryDecision struct {
	retry  bool
	reason string
	wait   time.Duration
}

// shouldRetry decides about one finished attempt: a is its answer, without
// a response when err says why there was none. retries is how many retries
// were already made.
func (p RetryPolicy) shouldRetry(idempotent bool, retries int, a *answer, err error, jitter func(time.Duration) time.Duration) retryDecision {
	why, ok := retryable(idempotent, a, err)
	switch {
	case !ok:
		return retryDecision{reason: why}
	case retries >= p.MaxRetries:
		return retryDecision{reason: "retries exhausted after: " + why}
	}
	wait := p.backoff(retries, jitter)
	if a.hasRetryAfter {
		if a.retryAfter > p.MaxRetryAfter {
			return retryDecision{reason: "retry-after longer than the policy allows"}
		}
		wait = a.retryAfter
	}
	return retryDecision{retry: true, reason: why, wait: wait}
}

// retryable says whether an attempt's outcome may be retried, and why.
func retryable(idempotent bool, a *answer, err error) (string, bool) {
	if err != nil {
		return retryableError(idempotent, a, err)
	}
	switch status := a.rsp.StatusCode; {
	case a.otherRequest:
		return "answer to another request than the one sent", false
	case a.readErr != nil && !idempotent:
		return "reading a create's answer failed after it was sent", false
	case a.readErr != nil:
		return "reading the answer failed", true
	case status == http.StatusTooManyRequests:
		// A 429 was not processed, so even a create may be sent again.
		return "rate limited", true
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		if !idempotent {
			// The server may have made the token before failing: a second
			// create could make a second live credential.
			return "server error on a create", false
		}
		return "server unavailable", true
	default:
		return "final answer", false
	}
}

// retryableError says whether a transport error may be retried, and why.
// A create is sent again only when it provably did not leave: no byte of
// its body was read (a.notSent). The type of the error proves nothing: a
// doer that fails over, or follows a redirect, can return a dial error
// after another endpoint read the whole create.
func retryableError(idempotent bool, a *answer, err error) (string, bool) {
	switch {
	case tlsVerification(err):
		return "tls verification failed", false
	case !idempotent && a.notSent:
		return "no byte of the create was sent", true
	case !idempotent:
		return "transport error after the create may have been sent", false
	case transient(err):
		return "transport error", true
	default:
		return "permanent error", false
	}
}

// backoff is the wait before retry number retries+1.
func (p RetryPolicy) backoff(retries int, jitter func(time.Duration) time.Duration) time.Duration {
	d := p.InitialInterval
	for i := 0; i < retries && d < p.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, p.MaxInterval)
	if d <= 0 {
		return 0
	}
	return d/2 + jitter(d-d/2)
}

func tlsVerification(err error) bool {
	var verr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hnErr x509.HostnameError
	var ciErr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uaErr) || errors.As(err, &hnErr) || errors.As(err, &ciErr)
}

// transient reports transport errors worth another attempt of an idempotent
// request: resets, unexpected ends of stream and timeouts of one attempt.
func transient(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if http2Error(err) {
		return true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // *url.Error is a net.Error whatever it wraps
	}
	var nerr net.Error
	return errors.As(err, &nerr)
}

// isHTTP2Error reports whether a type, by package and name, is one of
// HTTP/2's stream, GOAWAY and connection errors: net/http does not export
// them (Go 1.26 bundles them in net/http, Go 1.27 has them in
// net/http/internal/http2), and golang.org/x/net/http2 has its own.
func isHTTP2Error(pkg, name string) bool {
	switch pkg {
	case "net/http":
		return name == "http2StreamError" || name == "http2GoAwayError" || name == "http2ConnectionError"
	case "net/http/internal/http2", "golang.org/x/net/http2":
		return name == "StreamError" || name == "GoAwayError" || name == "ConnectionError"
	}
	return false
}

// http2Error reports whether err is, or wraps, an HTTP/2 stream reset, a
// GOAWAY or a connection error: the stream ended without an answer, which
// Go 1.27's transport returns where Go 1.26's resent a request on its own.
func http2Error(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		t := reflect.TypeOf(err)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if isHTTP2Error(t.PkgPath(), t.Name()) {
			return true
		}
	}
	return false
}

// retryAfterValue parses Retry-After as seconds or an HTTP date. A date in
// the past is a wait of 0; a negative or unreadable value is no header.
func retryAfterValue(h http.Header, now time.Time) (time.Duration, bool) {
	v := headerValue(h, "Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
