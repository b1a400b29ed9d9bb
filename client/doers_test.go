package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
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

// An *http.Client without a cookie jar or a timeout is passed over for its
// transport; the errors are the ones its Do makes: the same text, a
// *url.Error naming the method and URL, http.ErrSchemeMismatch for a plain
// HTTP answer to HTTPS, and the same word on whether a token may have been
// made. The same transport, through Do (a client with an empty jar), is the
// reference.
func TestClient_passesOverDoWithDosErrors(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = discardLog()
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	tests := []struct {
		name   string
		server string
		is     error // also errors.Is of both errors, when set
	}{
		{"connection refused", "http://" + closedAddr(t), nil},
		{"plain HTTP to HTTPS", "https://" + plain.Listener.Addr().String(), http.ErrSchemeMismatch},
		{"unknown authority", untrusted.URL, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr := ownClient(t).Transport
			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			create := func(hc *http.Client) error {
				c, err := New(WithSecretKey(testKey), WithServerURL(tt.server+"/v1"), WithHTTPClient(hc), withClock(testClock(&waits{})))
				require.NoError(t, err)
				_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
				require.Error(t, err)
				return err
			}
			passed, viaDo := create(&http.Client{Transport: tr}), create(&http.Client{Transport: tr, Jar: jar})
			assert.Equal(t, viaDo.Error(), passed.Error())
			var passedURL, viaDoURL *url.Error
			require.ErrorAs(t, passed, &passedURL)
			require.ErrorAs(t, viaDo, &viaDoURL)
			assert.Equal(t, viaDoURL.Op, passedURL.Op)
			assert.Equal(t, viaDoURL.URL, passedURL.URL)
			assert.Equal(t, errors.Is(viaDo, ErrMaybeCreated), errors.Is(passed, ErrMaybeCreated))
			if tt.is != nil {
				assert.ErrorIs(t, viaDo, tt.is)
				assert.ErrorIs(t, passed, tt.is)
			}
		})
	}
}

// An *http.Client with a cookie jar or a timeout is called through its Do,
// which applies them: the jar's cookie is sent, and the client's own
// timeout ends a call that nothing else bounds.
func TestClient_callsDoForJarOrTimeout(t *testing.T) {
	t.Parallel()
	var cookies sync.Map // request path -> Cookie header
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookies.Store(r.URL.Path, r.Header.Get("Cookie"))
		if strings.HasSuffix(r.URL.Path, "/stall/revoke") {
			select { // until the client gives up, or the test ends
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, revokedJSON)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // first: Close waits for the handlers
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: "s1"}})

	t.Run("jar", func(t *testing.T) {
		t.Parallel()
		c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"), WithHTTPClient(&http.Client{Transport: ownClient(t).Transport, Jar: jar}))
		require.NoError(t, err)
		_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
		require.NoError(t, err)
		got, _ := cookies.Load("/v1/sign_in_tokens/sit_2aBcD/revoke")
		assert.Equal(t, "session=s1", got)
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		hc := &http.Client{Transport: ownClient(t).Transport, Timeout: 50 * time.Millisecond}
		c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"), WithHTTPClient(hc),
			WithTimeout(0), WithRetryPolicy(RetryPolicy{}))
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			_, err := c.SignInTokens.Revoke(context.Background(), "stall")
			done <- err
		}()
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		case <-time.After(time.Minute): // a watchdog: nothing else bounds the call
			t.Fatal("the call did not end: the HTTP client's Timeout was not applied")
		}
	})
}
