package clerktest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
)

// AnswerLost scripts the failure the SDK exists for: the token is made and
// its answer lost, by a dropped connection, a gateway's 502 or 504, or a
// delay past the client's timeout. The client's error matches
// ErrMaybeCreated, and the fake lists the token.
func TestFake_answerLost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
	}{
		{"dropped", AnswerLost(0)},
		{"502", AnswerLost(502)},
		{"504", AnswerLost(504)},
		{"later than the client waits", func() Fault { f := AnswerLost(0); f.Delay = time.Minute; return f }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, WithUsers("user_1"))
			srv.FailNext(1, tt.fault)
			c := srv.Client(client.WithTimeout(200*time.Millisecond), client.WithRetryPolicy(client.RetryPolicy{}))
			_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
			require.Error(t, err)
			assert.ErrorIs(t, err, client.ErrMaybeCreated)
			toks := srv.SignInTokens()
			require.Len(t, toks, 1, "the token was made")
			assert.Equal(t, "user_1", toks[0].UserID)
			assert.Equal(t, client.SignInTokenStatusPending, toks[0].Status)
		})
	}
}

// AfterProcessing with no status and no drop answers as usual, after the
// request took effect: a delayed success, never an empty 200.
func TestFake_afterProcessingAnswersAsUsual(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithUsers("user_1"))
	srv.FailNext(1, Fault{AfterProcessing: true, Delay: 10 * time.Millisecond})
	res, err := srv.Client().SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.NoError(t, err)
	assert.Equal(t, "user_1", res.SignInToken.UserID)
	assert.Len(t, srv.SignInTokens(), 1)
}
