package client

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every answer, success or error, is read to its end, so that one
// keep-alive connection carries all the calls.
func TestClient_reusesConnection(t *testing.T) {
	t.Parallel()
	answers := []struct {
		status      int
		contentType string
		body        string
	}{
		{200, "application/json", tokenJSON},
		{404, "application/json", notFoundJSON},
		{200, "text/plain", "not json"},
		{422, "application/json", `{"errors":[{"message":"m","long_message":"l","code":"form_param_missing"}]}`},
		{500, "text/html", "<html>oops</html>"},
		{200, "application/json", `{"id":`},
		{429, "application/json", `{"errors":[]}`},
	}
	var conns, n atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[int(n.Add(1)-1)%len(answers)]
		w.Header().Set("Content-Type", a.contentType)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"),
		WithHTTPClient(&http.Client{Transport: tr}), WithRetryPolicy(RetryPolicy{}))
	require.NoError(t, err)
	var failures int
	for i := range 100 {
		if i%2 == 0 {
			_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_" + strconv.Itoa(i)})
		} else {
			_, err = c.SignInTokens.Revoke(context.Background(), "sit_"+strconv.Itoa(i))
		}
		if err != nil {
			failures++
		}
	}
	assert.Equal(t, int32(100), n.Load())
	assert.Greater(t, failures, 50, "errors are part of the mix")
	assert.Equal(t, int32(1), conns.Load(), "connections opened")
}

// The default HTTP client keeps as many idle connections as the calls a
// program runs at once. What it guarantees on any machine: with fewer calls
// in flight than DefaultMaxIdleConnsPerHost, no connection is ever closed
// for want of room in the pool (Go's default transport keeps 2, and closes
// about one answer's connection in seven at 16 goroutines), so connections
// opened stay within twice the calls in flight. The margin: a call that
// finds no idle connection dials one, while the connection its goroutine's
// previous call used may still be on its way back to the pool; the dialled
// one then joins the pool rather than being closed. How many connections
// close is not asserted: Go's transport closes one whose request its write
// loop has not reported written within 50 ms of the answer, which happens
// on a loaded machine whatever the pool's size.
func TestClient_defaultClientKeepsConnections(t *testing.T) {
	t.Parallel()
	const goroutines, calls = 16, 100
	var opened, closed atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, tokenFor(r))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	require.Less(t, goroutines, DefaultMaxIdleConnsPerHost)

	var wg sync.WaitGroup
	var failed atomic.Int32
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: fmt.Sprintf("user_%d_%d", g, i)})
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, failed.Load())
	assert.LessOrEqual(t, opened.Load(), int32(2*goroutines), "connections opened for %d calls (%d closed)",
		goroutines*calls, closed.Load())
}
