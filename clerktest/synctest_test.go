package clerktest

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
)

// Inside synctest.Test, over the in-memory network, a 429 with
// Retry-After: 3 and the client's retry take 3 s of fake time, and the
// create succeeds.
func TestServer_SynctestRetryAfter(t *testing.T) {
	t.Parallel()
	began := time.Now()
	synctest.Test(t, func(t *testing.T) {
		srv := NewServer(t, WithUsers("user_1"), WithInMemoryNetwork())
		srv.FailNext(1, Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3"}}})
		start := time.Now()
		res, err := srv.Client().SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, time.Since(start), "fake time")
		assert.Equal(t, "user_1", res.SignInToken.UserID)
		assert.Len(t, srv.Requests(), 2)
	})
	t.Logf("real time: %s", time.Since(began))
}

// Inside synctest.Test, WithTimeout(10s) against a fault that answers after
// 30 s ends the call at 10 s of fake time.
func TestServer_SynctestTimeout(t *testing.T) {
	t.Parallel()
	began := time.Now()
	synctest.Test(t, func(t *testing.T) {
		srv := NewServer(t, WithUsers("user_1"), WithInMemoryNetwork())
		srv.FailNext(1, Fault{Delay: 30 * time.Second})
		c := srv.Client(client.WithTimeout(10*time.Second), client.WithRetryPolicy(client.RetryPolicy{}))
		start := time.Now()
		_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 10*time.Second, time.Since(start), "fake time")
	})
	t.Logf("real time: %s", time.Since(began))
}
