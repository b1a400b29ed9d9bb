package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkgo/signintokens/gen"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// script answers the requests to one pattern in turn, and records the body
// of every attempt. Past its end it repeats the last answer.
type script struct {
	mu      sync.Mutex
	answers []http.HandlerFunc
	bodies  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	s.answers[min(n, len(s.answers)-1)](w, r)
}

func (s *script) attempts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code == http.StatusOK {
			_, _ = io.WriteString(w, successFor(r))
		} else {
			_, _ = fmt.Fprintf(w, `{"errors":[{"message":"m","long_message":"l","code":"status_%d"}]}`, code)
		}
	}
}

// successFor is the success fixture (see testOps) of the operation whose
// ServeMux pattern routed r, or a created sign-in token's for a pattern of
// no operation.
func successFor(r *http.Request) string {
	for _, op := range gen.Operations() {
		if r.Pattern == op.Method+" /v1"+op.Path {
			return testOps()[op.ID].success
		}
	}
	return tokenJSON
}

// hangs answers only when the request's context ends.
func hangs(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// cutBody promises a long body, sends part of it and ends the connection,
// with a reset (SO_LINGER 0) or a plain close.
func cutBody(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n" + tokenJSON[:40])
		_ = buf.Flush()
		if reset {
			_ = conn.(*net.TCPConn).SetLinger(0)
		}
		_ = conn.Close()
	}
}

const createBody = `{"user_id":"user_12345"}`

// retryCase is a script of answers to one operation and what the client
// makes of it: how many attempts, which waits between them, and the result.
type retryCase struct {
	name     string
	op       gen.Operation
	answers  []http.HandlerFunc
	timeout  time.Duration
	attempts int
	waits    []time.Duration
	check    func(t *testing.T, err error)
}

// An operation that may be resent is retried on 429, 502, 503, 504, a
// timed-out attempt and a broken answer; nothing else.
func TestRetry_resendable(t *testing.T) {
	t.Parallel()
	runRetryCasesOf(t, func(op gen.Operation) bool { return op.Resendable }, []retryCase{
		{
			name: "revoke 503 503 200", answers: []http.HandlerFunc{status(503), status(503), status(200)},
			attempts: 3, waits: []time.Duration{500 * time.Millisecond, time.Second},
			check: succeeded,
		},
		{
			name: "revoke 503 until retries run out", answers: []http.HandlerFunc{status(503)},
			attempts: 3, waits: []time.Duration{500 * time.Millisecond, time.Second},
			check: apiError(503, "API error occurred: status_503", 0),
		},
		{
			name: "revoke 502 504 then 404 is final", answers: []http.HandlerFunc{status(502), status(504), status(404)},
			attempts: 3, waits: []time.Duration{500 * time.Millisecond, time.Second},
			check: func(t *testing.T, err error) {
				var ce *ClerkErrors
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, 404, ce.StatusCode)
			},
		},
		{
			name: "revoke 500 is not retried", answers: []http.HandlerFunc{status(500), status(200)},
			attempts: 1, check: apiError(500, "API error occurred: status_500", 0),
		},
		{
			name: "revoke attempt timing out is retried", timeout: 250 * time.Millisecond,
			answers: []http.HandlerFunc{hangs, status(200)}, attempts: 2,
			waits: []time.Duration{500 * time.Millisecond}, check: succeeded,
		},
		{
			name: "revoke reset mid-body is retried", answers: []http.HandlerFunc{cutBody(true), status(200)},
			attempts: 2, waits: []time.Duration{500 * time.Millisecond}, check: succeeded,
		},
		{
			name: "revoke truncated body is retried", answers: []http.HandlerFunc{cutBody(false), cutBody(false), status(200)},
			attempts: 3, waits: []time.Duration{500 * time.Millisecond, time.Second}, check: succeeded,
		},
	})
}

// An operation that creates a credential is retried only when its answer
// says it was not processed (429) or no byte of it left.
func TestRetry_createsCredential(t *testing.T) {
	t.Parallel()
	runRetryCasesOf(t, func(op gen.Operation) bool { return op.CreatesCredential }, []retryCase{
		{
			name: "create 503 is not retried", answers: []http.HandlerFunc{status(503), status(200)},
			attempts: 1, check: apiError(503, "API error occurred: status_503", 0),
		},
		{
			name: "create 429 then 200", answers: []http.HandlerFunc{status(429), status(200)},
			attempts: 2, waits: []time.Duration{500 * time.Millisecond}, check: succeeded,
		},
		{
			name: "create attempt timing out is not retried", timeout: 250 * time.Millisecond,
			answers: []http.HandlerFunc{hangs, status(200)}, attempts: 1,
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			},
		},
		{
			name:    "create reset mid-body keeps the status",
			answers: []http.HandlerFunc{cutBody(true), status(200)}, attempts: 1,
			check: func(t *testing.T, err error) {
				apiError(200, "reading response body", 0)(t, err)
			},
		},
		{
			name:    "create truncated body keeps the status",
			answers: []http.HandlerFunc{cutBody(false), status(200)}, attempts: 1,
			check: func(t *testing.T, err error) {
				apiError(200, "reading response body", 0)(t, err)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
			},
		},
	})
}

// A Retry-After is waited for, whatever the operation, up to the policy's
// MaxRetryAfter.
func TestRetry_retryAfter(t *testing.T) {
	t.Parallel()
	runRetryCases(t, gen.Operation{}, []retryCase{
		{
			op: gen.CreateSignInTokenOperation(), name: "create 429 with Retry-After seconds",
			answers:  []http.HandlerFunc{status(429, "Retry-After", "3"), status(200)},
			attempts: 2, waits: []time.Duration{3 * time.Second}, check: succeeded,
		},
		{
			op: gen.RevokeSignInTokenOperation(), name: "revoke 503 with Retry-After date", answers: []http.HandlerFunc{
				status(503, "Retry-After", time.Date(2026, 11, 28, 12, 0, 7, 0, time.UTC).Format(http.TimeFormat)), status(200),
			},
			attempts: 2, waits: []time.Duration{7 * time.Second}, check: succeeded,
		},
		{
			op: gen.CreateSignInTokenOperation(), name: "429 with Retry-After 3600 returns at once",
			answers:  []http.HandlerFunc{status(429, "Retry-After", "3600"), status(200)},
			attempts: 1, check: apiError(429, "API error occurred: status_429", time.Hour),
		},
		{
			op: gen.RevokeSignInTokenOperation(), name: "429 until retries run out keeps Retry-After", answers: []http.HandlerFunc{status(429, "Retry-After", "2")},
			attempts: 3, waits: []time.Duration{2 * time.Second, 2 * time.Second},
			check: apiError(429, "API error occurred: status_429", 2*time.Second),
		},
	})
}

// runRetryCasesOf runs the cases against every operation of
// gen.Operations() that kind selects, failing if it selects none.
func runRetryCasesOf(t *testing.T, kind func(gen.Operation) bool, tests []retryCase) {
	ran := false
	for _, op := range gen.Operations() {
		if kind(op) {
			ran = true
			t.Run(op.ID, func(t *testing.T) {
				t.Parallel()
				runRetryCases(t, op, tests)
			})
		}
	}
	require.True(t, ran, "no operation of this kind in gen.Operations()")
}

// runRetryCases runs each case against op, or the case's own op when it
// names one, through the client's call of that operation.
func runRetryCases(t *testing.T, op gen.Operation, tests []retryCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := op
			if tt.op.ID != "" {
				op = tt.op
			}
			f := setup(t)
			s := &script{answers: tt.answers}
			f.mux.Handle(op.Method+" /v1"+op.Path, s) // the document's {param} is a ServeMux wildcard
			opts := []Option{}
			if tt.timeout > 0 {
				opts = append(opts, WithTimeout(tt.timeout))
			}
			err := callOperation(f.client(t, opts...), op)
			got := s.attempts()
			require.Len(t, got, tt.attempts, "attempts")
			for i, body := range got {
				assert.Equal(t, bodyOf(op), body, "body of attempt %d", i+1)
			}
			assert.Equal(t, tt.waits, f.waits.all(), "waits between attempts")
			tt.check(t, err)
			if err != nil {
				assertNoSecrets(t, err)
			}
		})
	}
}

// callOperation calls op, one of the document's operations, through the
// service method that sends it (see testOps).
func callOperation(c *Client, op gen.Operation) error {
	o, ok := testOps()[op.ID]
	if !ok {
		panic("callOperation: no entry in testOps for " + op.ID)
	}
	_, err := o.call(c)
	return err
}

// bodyOf is the body callOperation sends for op.
func bodyOf(op gen.Operation) string { return testOps()[op.ID].body }

func succeeded(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}

func apiError(status int, message string, retryAfter time.Duration) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae *APIError
		require.ErrorAs(t, err, &ae, "got %v", err)
		assert.Equal(t, status, ae.StatusCode)
		assert.Equal(t, message, ae.Message)
		assert.Equal(t, retryAfter, ae.RetryAfter)
	}
}

// assertNoSecrets checks an error in every printed form for the secret key
// and the token.
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	printed := map[string]any{"err": err}
	var ae *APIError
	if errors.As(err, &ae) {
		printed["*APIError"] = *ae // the struct itself, not its pointer
	}
	for what, v := range printed {
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x"} {
			s := fmt.Sprintf(format, v)
			assert.NotContains(t, s, testKey, "%s %s", what, format)
			assert.NotContains(t, s, tokenValue, "%s %s", what, format)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("failed", "err", v, "in", []any{v})
		assert.NotContains(t, buf.String(), testKey, "%s in slog", what)
		assert.NotContains(t, buf.String(), tokenValue, "%s in slog", what)
	}
}

// A connection that is never made proves the server saw nothing: even a
// create is retried.
func TestRetry_dialRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	for _, create := range []bool{true, false} {
		w := &waits{}
		c, err := New(WithSecretKey(testKey), WithServerURL("http://"+addr+"/v1"), withClock(testClock(w)))
		require.NoError(t, err)
		if create {
			_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
		} else {
			_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "connection refused")
		assert.Len(t, w.all(), 2, "two retries, create=%v", create)
		assertNoSecrets(t, err)
	}
}

// The caller's context ends the call during a wait between attempts.
func TestRetry_contextCancelledDuringWait(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{status(503), status(200)}}
	f.mux.Handle(revokePattern, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl := testClock(f.waits)
	cl.sleep = func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while the client waits
		return sleep(ctx, d)
	}
	c := f.client(t, withClock(cl))
	_, err := c.SignInTokens.Revoke(ctx, "sit_2aBcD")
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, s.attempts(), 1)
}

// An expired context is never retried and keeps errors.Is.
func TestRetry_contextDeadline(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{hangs}}
	f.mux.Handle(revokePattern, s)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.client(t).SignInTokens.Revoke(ctx, "sit_2aBcD")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.LessOrEqual(t, len(s.attempts()), 1, "never retried") // the deadline may pass before the request arrives
	assert.Empty(t, f.waits.all())
}

// A 50 MiB answer is cut at 1 MiB, never held whole.
func TestRetry_hugeBody(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chunk := strings.Repeat("x", 1<<20)
	f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(50<<20))
		for range 50 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return // the client stopped reading
			}
		}
	})
	_, err := f.client(t).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 200, ae.StatusCode)
	assert.Equal(t, "response body over 1048576 bytes", ae.Message)
	assert.Len(t, ae.Body, maxBodyBytes)
	assert.Equal(t, int32(1), f.hits.Load())
}

// A certificate the client does not trust fails at once: a revoke is not
// retried, nor a create of which no byte left (which would otherwise be).
func TestRetry_untrustedCertificate(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	srv.Config.ErrorLog = discardLog()
	for _, op := range []gen.Operation{gen.CreateSignInTokenOperation(), gen.RevokeSignInTokenOperation()} {
		t.Run(op.ID, func(t *testing.T) {
			t.Parallel()
			w := &waits{}
			c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"), withClock(testClock(w)),
				WithHTTPClient(ownClient(t)))
			require.NoError(t, err)
			err = callOperation(c, op)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "certificate")
			assert.Empty(t, w.all(), "not retried")
			assert.NotErrorIs(t, err, ErrMaybeCreated)
		})
	}
	assert.Zero(t, hits.Load())
}

// One client, 200 calls at once.
func TestClient_concurrent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc(createPattern, answerFor)
	f.mux.HandleFunc(revokePattern, answerFor)
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_" + strconv.Itoa(i)})
			} else {
				_, err = c.SignInTokens.Revoke(context.Background(), "sit_"+strconv.Itoa(i))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int32(200), f.hits.Load())
}

func TestRetryAfterValue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{"3600", time.Hour, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999", 0, false},
		{"9223372036854775807", time.Duration(1<<63-1) / time.Second * time.Second, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"Sat, 28 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
	}
	for _, tt := range tests {
		got, ok := retryAfterValue(tt.header, now)
		assert.Equal(t, tt.ok, ok, tt.header)
		assert.Equal(t, tt.want, got, tt.header)
	}
}

func TestRetryPolicy_backoff(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	full := func(d time.Duration) time.Duration { return d }
	none := func(time.Duration) time.Duration { return 0 }
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, w := range want {
		assert.Equal(t, w, p.backoff(i, full), "retry %d, most jitter", i+1)
		assert.Equal(t, w/2, p.backoff(i, none), "retry %d, least jitter", i+1)
	}
	assert.Zero(t, RetryPolicy{}.backoff(3, full))
}

// The zero policy sends once.
func TestRetryPolicy_zero(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{status(503), status(200)}}
	f.mux.Handle(revokePattern, s)
	_, err := f.client(t, WithRetryPolicy(RetryPolicy{})).SignInTokens.Revoke(context.Background(), "sit_1")
	apiError(503, "API error occurred: status_503", 0)(t, err)
	assert.Len(t, s.attempts(), 1)
}

func TestRetryable_reasons(t *testing.T) {
	t.Parallel()
	const create, revoke = false, true
	rsp := func(code int) *answer { return &answer{rsp: &http.Response{StatusCode: code, Header: http.Header{}}} }
	cut := &answer{rsp: &http.Response{StatusCode: 200}, readErr: io.ErrUnexpectedEOF}
	moved := &answer{rsp: &http.Response{StatusCode: 429}, otherRequest: true}
	sent, unsent := &answer{}, &answer{notSent: true}
	tests := []struct {
		op     bool
		rsp    *answer
		err    error
		ok     bool
		reason string
	}{
		{create, rsp(429), nil, true, "rate limited"},
		{create, rsp(503), nil, false, "server error on a create"},
		{revoke, rsp(503), nil, true, "server unavailable"},
		{revoke, rsp(400), nil, false, "final answer"},
		{revoke, rsp(307), nil, false, "final answer"},
		{revoke, rsp(101), nil, false, "final answer"},
		{create, cut, nil, false, "reading a create's answer failed after it was sent"},
		{revoke, cut, nil, true, "reading the answer failed"},
		{create, moved, nil, false, "answer to another request than the one sent"},
		{create, unsent, io.ErrUnexpectedEOF, true, "no byte of the create was sent"},
		// A dial error proves nothing: a failover doer may have sent the
		// create to another endpoint first.
		{create, sent, &net.OpError{Op: "dial", Err: errors.New("refused")}, false, "transport error after the create may have been sent"},
		{create, sent, &net.DNSError{Err: "no such host", Name: "x"}, false, "transport error after the create may have been sent"},
		{create, sent, io.ErrUnexpectedEOF, false, "transport error after the create may have been sent"},
		{revoke, sent, &net.OpError{Op: "dial", Err: errors.New("refused")}, true, "transport error"},
		{revoke, sent, io.ErrUnexpectedEOF, true, "transport error"},
		{revoke, sent, errors.New("unsupported protocol scheme"), false, "permanent error"},
	}
	for _, tt := range tests {
		reason, ok := retryable(tt.op, tt.rsp, tt.err)
		assert.Equal(t, tt.ok, ok, tt.reason)
		assert.Equal(t, tt.reason, reason)
	}
}

// A context that ends before the first attempt (here, already cancelled)
// sends nothing and returns the context's error with the SDK's prefix.
func TestRetry_contextDoneBeforeSending(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client(t).SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "clerk: POST /sign_in_tokens: not sent: context canceled", err.Error())
	assert.Zero(t, f.hits.Load())
}

// A wait that cannot fit in the caller's deadline is not begun: the call
// returns the answer that asked for it, typed, with its RetryAfter, instead
// of a bare context error after waiting in vain.
func TestRetry_waitLongerThanDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer http.HandlerFunc
		revoke bool
		status int
		after  time.Duration
	}{
		{"create: 429 with Retry-After 5", status(429, "Retry-After", "5"), false, 429, 5 * time.Second},
		{"revoke: 503 with a backoff of 1 to 2 s", status(503), true, 503, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			s := &script{answers: []http.HandlerFunc{tt.answer, status(200)}}
			f.mux.Handle(createPattern, s)
			f.mux.Handle(revokePattern, s)
			policy := RetryPolicy{MaxRetries: 2, InitialInterval: 2 * time.Second, MaxInterval: 2 * time.Second, MaxRetryAfter: 10 * time.Second}
			c := f.client(t, WithRetryPolicy(policy))
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var err error
			if tt.revoke {
				_, err = c.SignInTokens.Revoke(ctx, "sit_2aBcD")
			} else {
				_, err = c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
			}
			var ae *APIError
			require.ErrorAs(t, err, &ae, "got %v", err)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.Equal(t, tt.after, ae.RetryAfter)
			assert.Len(t, s.attempts(), 1)
			assert.Empty(t, f.waits.all(), "no wait was begun")
		})
	}
}

// Every 429 pauses the client until its Retry-After, also when the call
// that met it does not try again (a Retry-After over MaxRetryAfter, or the
// last attempt): the client's next call does not go out before then, and
// one whose deadline ends first fails at once, sending nothing.
func TestThrottle_every429Pauses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy RetryPolicy
		after  string
	}{
		{"Retry-After over MaxRetryAfter", RetryPolicy{MaxRetries: 2, MaxRetryAfter: 10 * time.Second}, "30"},
		{"429 on the last attempt", RetryPolicy{}, "20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			s := &script{answers: []http.HandlerFunc{status(429, "Retry-After", tt.after), status(200)}}
			f.mux.Handle(createPattern, s)
			c, err := New(WithSecretKey(testKey), WithServerURL(f.server.URL+"/v1"), WithRetryPolicy(tt.policy))
			require.NoError(t, err)
			_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, 429, ae.StatusCode)

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_2"})
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Contains(t, err.Error(), "paused")
			assert.Len(t, s.attempts(), 1, "the second call was not sent")
		})
	}
}
