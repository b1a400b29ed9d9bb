package clerktest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// The control API scripts faults and rate limits, lists the tokens made,
// and answers only the fake's key; a bad request is refused with a
// sentence, and changes nothing.
func TestControlHandler(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	ctl := httptest.NewServer(srv.ControlHandler())
	defer ctl.Close()
	tests := []struct {
		method, path, body, key string
		status                  int
		want                    string
	}{
		{"POST", "/_fake/faults", `{"next": 1, "status": 503}`, srv.SecretKey(), 200, `{"ok":true}`},
		{"POST", "/_fake/faults", `{"next": 1, "status": 503}`, "sk_test_other", 401, "needs the fake's secret key"},
		{"POST", "/_fake/faults", `{"next": 0}`, srv.SecretKey(), 400, "next must be at least 1"},
		{"POST", "/_fake/faults", `{"next": 1, "stauts": 503}`, srv.SecretKey(), 400, "unknown field"},
		{"POST", "/_fake/faults", `{"next": 1, "delay": "soon"}`, srv.SecretKey(), 400, "delay must be a duration"},
		{"POST", "/_fake/rate_limit", `{"requests": 5, "window": "-1s"}`, srv.SecretKey(), 400, "positive window"},
		{"GET", "/_fake/nothing", "", srv.SecretKey(), 404, "no such control"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, ctl.URL+tt.path, strings.NewReader(tt.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tt.key)
		rsp, err := ctl.Client().Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(rsp.Body)
		rsp.Body.Close()
		assert.Equal(t, tt.status, rsp.StatusCode, "%s %s: %s", tt.method, tt.body, b)
		assert.Contains(t, string(b), tt.want, "%s %s", tt.method, tt.body)
	}

	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{}))
	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.Error(t, err, "the one scripted 503")
	_, err = c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.NoError(t, err)

	req, err := http.NewRequest("GET", ctl.URL+"/_fake/sign_in_tokens", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.SecretKey())
	rsp, err := ctl.Client().Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	var held map[string][]map[string]any
	require.NoError(t, json.Unmarshal(b, &held))
	require.Len(t, held["sign_in_tokens"], 1)
	assert.Equal(t, "user_1", held["sign_in_tokens"][0]["user_id"])
	assert.NotContains(t, string(b), `"token"`, "the credential itself is not listed")
}
