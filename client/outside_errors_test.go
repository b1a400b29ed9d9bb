package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyedError is an error value of a user's own that holds the key in a
// field: %#v of a struct that keeps it would print the field.
type keyedError struct{ key string }

func (e keyedError) Error() string { return "refused for " + e.key }

// failingLimiter is a Limiter whose Wait fails with err.
type failingLimiter struct{ err error }

func (l failingLimiter) Wait(context.Context) error     { return l.err }
func (failingLimiter) Pause(context.Context, time.Time) {}

// An error from a send hook or a Limiter is text from outside like any
// other: in the call's error it is one printable line without the key,
// names the operation and says that nothing was sent, and errors.Is still
// finds the cause.
func TestClient_hookAndLimiterErrorsAreCleaned(t *testing.T) {
	t.Parallel()
	sentinel := errors.New("journal full")
	causes := map[string]error{
		"joined lines":    errors.Join(sentinel, errors.New("second line "+testKey)),
		"key in a value":  keyedError{key: testKey},
		"control and key": errors.Join(sentinel, errors.New("\x1b[31m\u202e"+testKey)),
	}
	for name, cause := range causes {
		for _, via := range []string{"send hook", "limiter"} {
			t.Run(via+"/"+name, func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				f.reply(createPattern, 200, "application/json", tokenJSON)
				opt := WithSendHook(func(*http.Request) error { return cause })
				if via == "limiter" {
					opt = WithLimiter(failingLimiter{cause})
				}
				_, err := f.client(t, opt).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
				require.Error(t, err)
				assert.Zero(t, f.hits.Load(), "nothing sent")
				assertNoSecrets(t, err)
				assert.NotContains(t, err.Error(), "\n")
				assert.NotContains(t, err.Error(), "\x1b")
				assert.True(t, strings.HasPrefix(err.Error(), "clerk: POST /sign_in_tokens: not sent: "), err.Error())
				assert.ErrorIs(t, err, cause)
				assert.NotErrorIs(t, err, ErrMaybeCreated)
				if errors.Is(cause, sentinel) {
					assert.ErrorIs(t, err, sentinel)
				}
			})
		}
	}
}
