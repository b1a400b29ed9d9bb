package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew_secretKey(t *testing.T) {
	// Not parallel: it sets an environment variable.
	t.Setenv("CLERK_SECRET_KEY", "")
	_, err := New()
	require.Error(t, err)
	assert.Equal(t, "clerk: no secret key: use WithSecretKey or set CLERK_SECRET_KEY", err.Error())

	_, err = New(WithSecretKey("sk_test_has space"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "has space")

	t.Setenv("CLERK_SECRET_KEY", testKey)
	f := setup(t)
	f.mux.HandleFunc(revokePattern, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, revokedJSON)
	})
	c, err := New(WithServerURL(f.server.URL + "/v1"))
	require.NoError(t, err)
	_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)
}

func TestNew_serverURL(t *testing.T) {
	t.Parallel()
	bad := []struct{ url, want string }{
		{"api.clerk.com/v1", "must be an absolute http or https URL"},
		{"ftp://api.clerk.com/v1", "must be an absolute http or https URL"},
		{"://nope", "is not a URL"},
		{"https://", "must have a host"},
		{"https://:443/v1", "must have a host"},
		{"https://api.clerk.com/v1?x=1", "must not have a query"},
		{"https://api.clerk.com/v1?", "must not have a query"},
		{"https://api.clerk.com/v1#top", "must not have a fragment"},
		{"https://user:pw@api.clerk.com/v1", "must not hold user information"},
		{"https://api.clerk.com/v1/../v2", `must not have "." or ".." path segments`},
		{"https://api.clerk.com/./v1", `must not have "." or ".." path segments`},
		{"https://api.clerk.com/v1/..", `must not have "." or ".." path segments`},
		{"http://api.clerk.com/v1", "must use https unless the host is a loopback address"},
	}
	for _, tt := range bad {
		_, err := New(WithSecretKey(testKey), WithServerURL(tt.url))
		require.ErrorIs(t, err, ErrInvalidRequest, tt.url)
		assert.Contains(t, err.Error(), "clerk: invalid request: server URL "+tt.want, tt.url)
		assert.NotContains(t, err.Error(), "pw", tt.url)
	}
	good := []string{"https://api.clerk.com/v1", "http://localhost:8080", "http://127.0.0.1/v1/", "http://[::1]:1/v1"}
	for _, u := range good {
		_, err := New(WithSecretKey(testKey), WithServerURL(u))
		assert.NoError(t, err, u)
	}
	_, err := New(WithSecretKey(testKey), WithServerURL("http://clerk.internal/v1"), WithInsecureHTTP())
	assert.NoError(t, err)
}

// The base path is kept whether or not the URL ends in a slash.
func TestNew_serverURLKeepsPath(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"/v1", "/v1/"} {
		t.Run(suffix, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.reply(revokePattern, 200, "application/json", revokedJSON)
			f.reply(createPattern, 200, "application/json", tokenJSON)
			c := f.client(t, WithServerURL(f.server.URL+suffix))
			_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			require.NoError(t, err)
			_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
			require.NoError(t, err)
			assert.Equal(t, int32(2), f.hits.Load())
		})
	}
}

// Printing a client in any form never shows its secret key.
func TestClient_printingHidesKey(t *testing.T) {
	t.Parallel()
	c, err := New(WithSecretKey(testKey))
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(format, c), "SECRET", format)
		assert.NotContains(t, fmt.Sprintf(format, *c), "SECRET", format)
		assert.NotContains(t, fmt.Sprintf(format, c.SignInTokens), "SECRET", format)
	}
}

// New reads CLERK_API_URL when WithServerURL is not given, so that a program
// can be pointed at fake-server by its two exports alone.
func TestNew_serverURLFromEnvironment(t *testing.T) {
	// Not parallel: it sets environment variables.
	f := setup(t)
	f.reply(revokePattern, 200, "application/json", revokedJSON)
	t.Setenv("CLERK_SECRET_KEY", testKey)
	t.Setenv("CLERK_API_URL", f.server.URL+"/v1")
	c, err := New()
	require.NoError(t, err)
	_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)
	assert.Equal(t, int32(1), f.hits.Load())

	t.Setenv("CLERK_API_URL", "http://clerk.internal/v1")
	_, err = New()
	require.ErrorIs(t, err, ErrInvalidRequest, "the environment's URL is checked like any other")

	t.Setenv("CLERK_API_URL", "http://clerk.internal/v1")
	_, err = New(WithServerURL(f.server.URL + "/v1"))
	require.NoError(t, err, "WithServerURL wins over the environment")
}

// New refuses what would make every call fail or panic later.
func TestNew_refuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"a nil *http.Client", WithHTTPClient((*http.Client)(nil)), "nil HTTP client"},
		{"CR LF in the User-Agent", WithUserAgent("app/1\r\nX-Evil: 1"), "control characters"},
		{"NUL in the User-Agent", WithUserAgent("app\x00"), "control characters"},
		{"a publishable key", WithSecretKey("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"), "secret key is a publishable key (pk_...)"},
	}
	for _, tt := range tests {
		c, err := New(WithSecretKey(testKey), tt.opt)
		assert.Nil(t, c, tt.name)
		if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.want, tt.name)
		}
	}
}

// A loopback host is loopback in any case of its name.
func TestNew_loopbackAnyCase(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://localhost:8080/v1", "http://LOCALHOST:8080/v1", "http://LocalHost/v1", "http://127.0.0.1/v1", "http://[::1]/v1"} {
		_, err := New(WithSecretKey(testKey), WithServerURL(u))
		assert.NoError(t, err, u)
	}
	_, err := New(WithSecretKey(testKey), WithServerURL("http://localhost.example.com/v1"))
	assert.ErrorIs(t, err, ErrInvalidRequest)
}

// A server URL without a path is an origin, as Clerk's Node SDK reads
// CLERK_API_URL: the API is at its /v1. A path is kept as it is.
func TestNew_serverURLOrigin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ base, want string }{
		{"", "/v1/sign_in_tokens"},
		{"/", "/v1/sign_in_tokens"},
		{"/v1", "/v1/sign_in_tokens"},
		{"/proxy/clerk/v1/", "/proxy/clerk/v1/sign_in_tokens"},
	} {
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.URL.Path
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(tokenJSON))
		}))
		c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+tt.base))
		require.NoError(t, err)
		_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
		srv.Close()
		require.NoError(t, err, tt.base)
		assert.Equal(t, tt.want, got, "server URL %q", srv.URL+tt.base)
	}
}

// The send hook runs once for each attempt, just before it goes to the
// doer, with the request and the call's context; an error from it ends the
// call with nothing sent.
func TestWithSendHook(t *testing.T) {
	t.Parallel()
	refused := errors.New("journal full")
	tests := []struct {
		name         string
		hookErr      error
		wantHooks    int
		wantAttempts int
	}{
		{"each attempt", nil, 2, 2},
		{"an error sends nothing", refused, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			s := &script{answers: []http.HandlerFunc{status(429), status(200)}}
			f.mux.Handle(revokePattern, s)
			type callKey struct{}
			hooks := 0
			hook := func(req *http.Request) error {
				assert.Equal(t, "call 1", req.Context().Value(callKey{}))
				assert.Equal(t, "/v1/sign_in_tokens/sit_2aBcD/revoke", req.URL.Path)
				hooks++
				return tt.hookErr
			}
			ctx := context.WithValue(context.Background(), callKey{}, "call 1")
			_, err := f.client(t, WithSendHook(hook)).SignInTokens.Revoke(ctx, "sit_2aBcD")
			if tt.hookErr != nil {
				assert.ErrorIs(t, err, tt.hookErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.wantHooks, hooks)
			assert.Len(t, s.attempts(), tt.wantAttempts)
		})
	}
}
