package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failoverDoer sends each request to its first endpoint and, when that
// fails in any way, to the next, returning the last error: a user's
// failover transport. Its second endpoint refuses connections, so a create
// that the first endpoint read ends in a dial error.
type failoverDoer struct {
	first  string // a base URL that reads the request and drops the connection
	second string // a base URL nobody listens on
	tr     http.RoundTripper
}

func (d failoverDoer) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var last error
	for _, base := range []string{d.first, d.second} {
		r, err := http.NewRequestWithContext(req.Context(), req.Method, base+req.URL.Path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header = req.Header.Clone()
		rsp, err := d.tr.RoundTrip(r)
		if err == nil {
			return rsp, nil
		}
		last = err
	}
	return nil, last
}

// A dial error proves nothing when the doer is not the SDK's own: the
// failover doer's first endpoint read the create before the second
// endpoint's dial failed. The create is not sent again, and the error says
// a token may have been made.
func TestClient_failoverDialErrorIsNoProof(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var reads int
	var mu sync.Mutex
	f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		mu.Lock()
		reads++
		mu.Unlock()
		panic(http.ErrAbortHandler) // the connection drops before any answer
	})
	c := f.client(t, WithHTTPClient(failoverDoer{first: f.server.URL, second: "http://" + closedAddr(t), tr: ownClient(t).Transport}))
	_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.Error(t, err)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr, "the doer's error is a dial error")
	assert.Equal(t, "dial", opErr.Op)
	assert.ErrorIs(t, err, ErrMaybeCreated)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, reads, "creates the first endpoint read")
}

// A create that no byte of left is sent again, and its error, if any, does
// not say a token may have been made.
func TestClient_createNotSentIsRetried(t *testing.T) {
	t.Parallel()
	c, err := New(WithSecretKey(testKey), WithServerURL("http://"+closedAddr(t)+"/v1"), withClock(testClock(&waits{})))
	require.NoError(t, err)
	_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrMaybeCreated)
	assertNoSecrets(t, err)
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// recordingDoer keeps every request it is given and hands it to another
// goroutine, as a test double or an audit log does.
type recordingDoer struct {
	next HTTPDoer
	mu   sync.Mutex
	reqs []*http.Request
	seen chan string
}

func (d *recordingDoer) Do(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, req)
	d.mu.Unlock()
	go func() { d.seen <- req.Header.Get("Authorization") }()
	return d.next.Do(req)
}

// The doer's request is the doer's: the SDK does not change it after the
// call (a recording doer still sees the key, and reading it from another
// goroutine does not race, under -race), and what the response keeps is a
// copy without the key.
func TestClient_leavesDoersRequestAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 200, "application/json", tokenJSON)
	d := &recordingDoer{next: ownClient(t), seen: make(chan string, 1)}
	res, err := f.client(t, WithHTTPClient(d)).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+testKey, <-d.seen)
	d.mu.Lock()
	defer d.mu.Unlock()
	require.Len(t, d.reqs, 1)
	assert.Equal(t, "Bearer "+testKey, d.reqs[0].Header.Get("Authorization"), "the doer's request after the call")
	kept := res.RawResponse.Request
	assert.NotSame(t, d.reqs[0], kept)
	assert.Empty(t, kept.Header.Get("Authorization"))
	assert.Equal(t, "application/json", kept.Header.Get("Content-Type"))
	assert.Equal(t, d.reqs[0].URL.String(), kept.URL.String())
}

// stalledBody is a response body that ignores every context: its Read
// blocks until Close.
type stalledBody struct {
	once   sync.Once
	closed chan struct{}
}

func (b *stalledBody) Read([]byte) (int, error) {
	<-b.closed
	return 0, errors.New("read on a closed body")
}

func (b *stalledBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

// stallingDoer answers 200 at once with a body that never comes.
type stallingDoer struct{}

func (stallingDoer) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: &stalledBody{closed: make(chan struct{})}, Request: req}, nil
}

// A body that ignores its context is also closed when the caller cancels
// while it is read: the call ends with context.Canceled and the status, in
// fake time, before any deadline. (Were the body closed only at the
// deadline, the call would end an hour later, with DeadlineExceeded.)
func TestClient_cancelClosesBodyThatIgnoresContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		deadline time.Duration // the caller's; 0 for none
	}{
		{"WithTimeout bounds the attempt", 0},
		{"the caller's deadline bounds it", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c, err := New(WithSecretKey(testKey), WithServerURL("https://api.clerk.test/v1"), WithHTTPClient(stallingDoer{}),
					WithTimeout(time.Hour), WithRetryPolicy(RetryPolicy{}))
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(context.Background())
				if tt.deadline > 0 {
					ctx, cancel = context.WithTimeout(context.Background(), tt.deadline)
				}
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					_, err := c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
					done <- err
				}()
				synctest.Wait() // the call is reading the body
				cancel()
				err = <-done
				assert.Zero(t, time.Since(start), "the call ended when the caller cancelled")
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 200, ae.StatusCode)
				assert.ErrorIs(t, err, context.Canceled)
				assert.ErrorIs(t, err, ErrMaybeCreated, "a 200 whose body was lost")
			})
		})
	}
}

// A body that ignores its context is closed at the attempt's deadline, so a
// call ends by WithTimeout or the caller's deadline, whichever comes first.
// (Were it not closed, the call would block, and the watchdog fails the test.)
func TestClient_closesBodyThatIgnoresContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration
		deadline time.Duration
	}{
		{"WithTimeout", 50 * time.Millisecond, time.Hour},
		{"caller's deadline", time.Hour, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(WithSecretKey(testKey), WithServerURL("https://api.clerk.test/v1"), WithHTTPClient(stallingDoer{}),
				WithTimeout(tt.timeout), WithRetryPolicy(RetryPolicy{}))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
				done <- err
			}()
			err = watchdog(t, done)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 200, ae.StatusCode)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorIs(t, err, ErrMaybeCreated, "a 200 whose body was lost")
		})
	}
}
