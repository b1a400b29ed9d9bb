package client

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 429 pauses the whole client: a call that never met the limit waits for
// the same Retry-After.
func TestThrottle_429PausesEveryCall(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{status(429, "Retry-After", "2"), status(200)}}
	f.mux.Handle(createPattern, s)
	f.mux.Handle(revokePattern, s)
	c := f.client(t) // the test clock is frozen: the pause is still ahead for the second call

	_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second}, f.waits.all(), "the call that met the 429 waits once")

	_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, f.waits.all(), "and so does the next call")
	assert.Len(t, s.attempts(), 3)

	other := f.client(t)
	_, err = other.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)
	assert.Len(t, f.waits.all(), 2, "another client is not paused")
}

// The limiter makes a call wait its turn, within the caller's deadline.
func TestWithRateLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 200, "application/json", tokenJSON)
	c := f.client(t, WithRateLimit(0.01, 1)) // one request, then one per 100 s
	_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(1), f.hits.Load(), "the second call was not sent")
}

func TestWithRateLimit_invalid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		rps   float64
		burst int
	}{{-1, 1}, {10, 0}, {10, -1}, {math.NaN(), 1}, {math.Inf(1), 1}, {math.Inf(-1), 1}, {0, 5}} {
		_, err := New(WithSecretKey(testKey), WithRateLimit(tt.rps, tt.burst))
		assert.ErrorContains(t, err, "rate limit", "%v", tt)
	}
	_, err := New(WithSecretKey(testKey), WithRateLimit(0, 0))
	assert.NoError(t, err, "zero is no limit")
}
