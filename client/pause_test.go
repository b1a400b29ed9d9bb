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
