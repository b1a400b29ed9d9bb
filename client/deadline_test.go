package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
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

// ctxView is what a user of a context can see of it, and of the contexts
// made from it, after something ended it (or nothing did).
type ctxView struct {
	Deadline             time.Duration // from the start; 0 for none
	ErrAtOnce            error         // Err as soon as it is made
	Err, Cause           error
	Done                 bool
	UnaskedDone          bool  // Done of a context nobody asked before it ended
	ChildErr, ChildCause error // of context.WithCancel's child of it
	AfterFuncRan         bool  // context.AfterFunc's f, given before it ended
	AfterFuncLate        bool  // context.AfterFunc's f, given after it ended
	StopAfterEnd         bool  // what the first AfterFunc's stop said after the end
	Value                any
}

// viewContext makes a context with mk under a parent that ends after
// parentTimeout, ends it with end, and reports what it shows. It runs in
// fake time.
func viewContext(t *testing.T, parentTimeout time.Duration, parentCause error,
	mk func(context.Context) (context.Context, context.CancelFunc), end string) ctxView {
	var v ctxView
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		parent, cancelParent := context.WithCancelCause(context.WithValue(context.Background(), ctxView{}, "kept"))
		if parentTimeout > 0 {
			var cancelTimeout context.CancelFunc
			parent, cancelTimeout = context.WithTimeout(parent, parentTimeout)
			defer cancelTimeout()
		}
		if end == "parent ended first" {
			cancelParent(parentCause)
		}
		ctx, release := mk(parent)
		v.ErrAtOnce = ctx.Err()
		unasked, releaseUnasked := mk(parent)
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		ran := make(chan struct{})
		stop := context.AfterFunc(ctx, func() { close(ran) })
		switch end {
		case "deadline passes":
			time.Sleep(time.Hour)
		case "parent ends":
			cancelParent(parentCause)
		case "released":
			release()
			releaseUnasked()
		}
		synctest.Wait()
		late := make(chan struct{})
		afterFunc(ctx, func() { close(late) })
		synctest.Wait()
		if d, ok := ctx.Deadline(); ok {
			v.Deadline = d.Sub(start)
		}
		v.Err, v.Cause, v.Value = ctx.Err(), context.Cause(ctx), ctx.Value(ctxView{})
		v.ChildErr, v.ChildCause = child.Err(), context.Cause(child)
		v.UnaskedDone = isClosed(unasked.Done())
		v.Done, v.AfterFuncRan, v.AfterFuncLate = isClosed(ctx.Done()), isClosed(ran), isClosed(late)
		v.StopAfterEnd = stop()
		release()
		releaseUnasked()
		cancelParent(nil)
	})
	return v
}

// afterFunc is context.AfterFunc, or the context's own AfterFunc method
// when it has one: context.AfterFunc calls that only while the context has
// not ended.
func afterFunc(ctx context.Context, f func()) {
	if a, ok := ctx.(interface{ AfterFunc(func()) func() bool }); ok {
		a.AfterFunc(f)
		return
	}
	context.AfterFunc(ctx, f)
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// An attempt's deadlineContext shows its users what the standard library's
// contexts it stands in for show: context.WithTimeout's, or, bound by the
// parent's deadline, context.WithCancel's. The same Deadline, Err, Cause,
// Done and Value, and the same for a context made from it and for
// context.AfterFunc, whether its deadline passes, its parent ends, it is
// released, or nothing ends it.
func TestDeadlineContext_showsWhatStandardContextsShow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		parentTimeout time.Duration
		model         func(context.Context) (context.Context, context.CancelFunc)
		timeout       time.Duration
	}{
		{"own timeout", 0,
			func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, time.Minute)
			},
			time.Minute},
		{"own timeout, parent's deadline later", 2 * time.Minute,
			func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, time.Minute)
			},
			time.Minute},
		{"parent's deadline", time.Minute, context.WithCancel, 0},
	}
	for _, tt := range tests {
		for _, end := range []string{"deadline passes", "parent ends", "parent ended first", "released", "nothing"} {
			for _, cause := range []error{nil, errors.New("the caller's own reason")} {
				name := tt.name + "/" + end
				if cause != nil {
					name += "/with cause"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					want := viewContext(t, tt.parentTimeout, cause, tt.model, end)
					got := viewContext(t, tt.parentTimeout, cause,
						func(ctx context.Context) (context.Context, context.CancelFunc) {
							dc := newDeadlineContext(ctx, tt.timeout)
							return dc, dc.release
						}, end)
					require.NotZero(t, want.Deadline, "the model has a deadline")
					assert.Equal(t, want, got)
				})
			}
		}
	}
}

// Printing an attempt's deadlineContext names it as the standard library
// names its contexts, and prints nothing of the body it watches.
func TestDeadlineContext_printsItsName(t *testing.T) {
	t.Parallel()
	dc := newDeadlineContext(context.Background(), time.Minute)
	defer dc.release()
	dc.watch(struct {
		io.Closer
		secret string
	}{io.NopCloser(nil), "sit_secret"})
	want, cancel := context.WithDeadline(context.Background(), dc.deadline)
	defer cancel()
	for _, verb := range []string{"%v", "%s", "%+v"} {
		got := fmt.Sprintf(verb, dc)
		assert.NotContains(t, got, "sit_secret", verb)
		assert.Equal(t, strings.Split(fmt.Sprint(want), " [")[0]+")", got, verb)
	}
}
