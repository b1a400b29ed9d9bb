package client_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// A 429 that lengthens the client's pause holds back a call that is already
// waiting out a shorter one. In fake time: the first call's 429 (Retry-After
// 1, at 0.1 s) pauses the client until 1.1 s; the second call's (Retry-After
// 5, at 0.7 s) until 5.7 s; the first call waits for that too, with or
// without a rate limit.
func TestThrottle_longerPauseHoldsWaitingCall(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"no rate limit", "WithRateLimit"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := clerktest.NewServer(t, clerktest.WithUsers("user_1", "user_2"), clerktest.WithInMemoryNetwork())
				srv.FailNext(1, clerktest.Fault{Status: 429, Header: http.Header{"Retry-After": {"1"}}, Delay: 100 * time.Millisecond})
				srv.FailNext(1, clerktest.Fault{Status: 429, Header: http.Header{"Retry-After": {"5"}}, Delay: 700 * time.Millisecond})
				opts := []client.Option{client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 1, MaxRetryAfter: 10 * time.Second})}
				if name == "WithRateLimit" {
					opts = append(opts, client.WithRateLimit(100, 10))
				}
				c := srv.Client(opts...)
				start := time.Now()
				took := make(chan time.Duration, 2)
				for _, user := range []string{"user_1", "user_2"} {
					go func() {
						_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: user})
						assert.NoError(t, err, user)
						took <- time.Since(start)
					}()
					synctest.Wait() // the first call is at the server before the second starts
				}
				for range 2 {
					assert.GreaterOrEqual(t, <-took, 5700*time.Millisecond, "a call went out inside the longer pause")
				}
				require.Len(t, srv.Requests(), 4)
			})
		})
	}
}

// The attempt's timeout measures the request, not the send hook that runs
// before it: a hook that takes 1.2 s (a slow disk's sync) under
// WithTimeout(700ms), against a server that answers at once, succeeds, and
// a server that takes longer than the timeout still ends the attempt.
func TestWithTimeout_startsAfterSendHook(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		delay time.Duration
		ok    bool
	}{
		{"server answers at once", 0, true},
		{"server slower than the timeout", time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"), clerktest.WithInMemoryNetwork())
				if tt.delay > 0 {
					srv.FailNext(1, clerktest.Fault{Delay: tt.delay})
				}
				hook := func(*http.Request) error { time.Sleep(1200 * time.Millisecond); return nil }
				c := srv.Client(client.WithSendHook(hook), client.WithTimeout(700*time.Millisecond),
					client.WithRetryPolicy(client.RetryPolicy{}))
				start := time.Now()
				_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
				if tt.ok {
					require.NoError(t, err)
					assert.Equal(t, 1200*time.Millisecond, time.Since(start))
					return
				}
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, 1900*time.Millisecond, time.Since(start), "the hook, then the timeout")
			})
		})
	}
}
