package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// passThrough is a RoundTripper of a user's own over Go's transport: the
// SDK cannot know that the bodies it returns end at the request's deadline.
type passThrough struct{ next http.RoundTripper }

func (p passThrough) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.next.RoundTrip(req)
}

// stallingTransport is stallingDoer as a RoundTripper under an *http.Client.
type stallingTransport struct{}

func (stallingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return stallingDoer{}.Do(req)
}

// halfBody answers 200 with the start of a token, then holds the rest back
// until the client goes away.
func halfBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "400")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"object":"sign_in_token",`))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// A deadline that ends a body's read ends the call, with the status kept,
// for the default client, a user's *http.Client over Go's transport, one
// over a RoundTripper of the user's own, and a doer whose body ignores its
// context. Go's transport and the SDK's own watch may end the read at the
// same instant: the race detector holds that they do so safely, so the
// call repeats.
func TestClient_deadlineEndsBodyRead(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(halfBody))
	t.Cleanup(srv.Close)
	tests := []struct {
		name string
		doer func(t *testing.T) HTTPDoer // nil: the default client
	}{
		{"default client", nil},
		{"NewHTTPClient", func(t *testing.T) HTTPDoer { return trackIdle(t, NewHTTPClient(0)) }},
		{"own RoundTripper", func(t *testing.T) HTTPDoer {
			return &http.Client{Transport: passThrough{ownClient(t).Transport}}
		}},
		{"body ignores context", func(*testing.T) HTTPDoer { return stallingDoer{} }},
		{"own RoundTripper, body ignores context", func(*testing.T) HTTPDoer {
			return &http.Client{Transport: stallingTransport{}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithSecretKey(testKey), WithServerURL(srv.URL + "/v1"),
				WithTimeout(100 * time.Millisecond), WithRetryPolicy(RetryPolicy{})}
			if tt.doer != nil {
				opts = append(opts, WithHTTPClient(tt.doer(t)))
			}
			c, err := New(opts...)
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)
			for range 10 {
				done := make(chan error, 1)
				go func() {
					_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
					done <- err
				}()
				err := watchdog(t, done)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.ErrorIs(t, err, ErrMaybeCreated, "a create whose answer was lost")
				// On a loaded machine the deadline can end the wait for the
				// headers instead; when they came, the status is kept.
				if ae := (*APIError)(nil); errors.As(err, &ae) {
					assert.Equal(t, 200, ae.StatusCode)
				}
			}
		})
	}
}

// trackIdle closes hc's idle connections when the test ends.
func trackIdle(t *testing.T, hc *http.Client) *http.Client {
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// watchdog waits for a call that must end by itself, and fails the test by
// name if it hangs instead: a regression in the SDK's deadlines fails here
// in a minute, not at the test binary's timeout.
func watchdog(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the call did not end within a minute of its deadline")
		return nil
	}
}
