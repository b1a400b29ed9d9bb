package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// switchAndHang answers 101 Switching Protocols and then sends nothing: the
// response body is the raw connection, which no deadline closes.
func switchAndHang(t *testing.T) http.HandlerFunc {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: clerk\r\n\r\n")
		_ = buf.Flush()
		<-done
	}
}

// A 101 then silence ends at once: the body of a 1XX answer is closed,
// never read.
func TestClient_switchingProtocols(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"create", "revoke"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.Handle(createPattern, switchAndHang(t))
			f.mux.Handle(revokePattern, switchAndHang(t))
			c := f.client(t, WithTimeout(time.Minute))
			errc := make(chan error, 1)
			go func() {
				var err error
				if op == "create" {
					_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
				} else {
					_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
				}
				errc <- err
			}()
			// A watchdog, not a timing assertion: the call ends without
			// waiting for any timeout, and this turns a hang into a failure.
			select {
			case err := <-errc:
				var ae *APIError
				require.ErrorAs(t, err, &ae, "got %v", err)
				assert.Equal(t, http.StatusSwitchingProtocols, ae.StatusCode)
				assert.Equal(t, "unknown status code", ae.Message)
				assert.Equal(t, int32(1), f.hits.Load(), "a 101 is final")
			case <-time.After(30 * time.Second):
				t.Fatal("the call hung on a 101 answer")
			}
		})
	}
}

// The request kept in a response or an error carries no Authorization
// header, so printing it never prints the key; over HTTP/1.1 and HTTP/2,
// whose transports handle the request sent differently (run with -race).
func TestClient_rawResponseRequestHasNoKey(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2 %t", h2), func(t *testing.T) {
			t.Parallel()
			mux := http.NewServeMux()
			mux.HandleFunc(createPattern, status(200))
			mux.HandleFunc(revokePattern, status(404))
			srv := httptest.NewUnstartedServer(mux)
			srv.EnableHTTP2 = h2
			srv.Config.ErrorLog = discardLog()
			srv.StartTLS()
			t.Cleanup(srv.Close)
			c, err := New(WithSecretKey(testKey), WithServerURL(srv.URL+"/v1"), WithHTTPClient(srv.Client()))
			require.NoError(t, err)
			res, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			require.NoError(t, err)
			assert.Equal(t, h2, res.RawResponse.ProtoMajor == 2, res.RawResponse.Proto)
			_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
			var ce *ClerkErrors
			require.ErrorAs(t, err, &ce)
			for _, rsp := range []*http.Response{res.RawResponse, ce.RawResponse} {
				require.NotNil(t, rsp.Request)
				assert.Empty(t, rsp.Request.Header.Get("Authorization"))
				assert.Equal(t, "2026-05-12", rsp.Request.Header.Get("Clerk-Api-Version"), "the other headers are kept")
				assert.NotContains(t, fmt.Sprintf("%+v", rsp.Request), testKey)
			}
		})
	}
}

// Responses and errors are plain data: json.Marshal works on each and
// leaves out the HTTP response.
func TestClient_marshalJSON(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 200, "application/json", tokenJSON)
	f.reply(revokePattern, 404, "application/json", notFoundJSON)
	f.reply("POST /v1/sign_in_tokens/sit_500/revoke", 500, "text/plain", "boom")
	c := f.client(t, WithRetryPolicy(RetryPolicy{}))
	res, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)
	_, clerkErr := c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	_, apiErr := c.SignInTokens.Revoke(context.Background(), "sit_500")
	for _, v := range []any{res, clerkErr, apiErr} {
		b, err := json.Marshal(v)
		require.NoError(t, err, "%T", v)
		assert.NotContains(t, string(b), "RawResponse", "%T", v)
		assert.NotContains(t, string(b), testKey, "%T", v)
	}
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"sit_2aBcD"`)
}

// An attempt gets a timer of its own only when the client's timeout ends
// before the caller's deadline; otherwise the caller's context bounds it.
// Over a doer that is not Go's transport, a bound attempt's context is a
// deadlineContext, which closes the body being read when it ends.
func TestCaller_attemptContext(t *testing.T) {
	t.Parallel()
	soon, cancelSoon := context.WithTimeout(context.Background(), time.Second)
	defer cancelSoon()
	late, cancelLate := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLate()
	tests := []struct {
		name     string
		goDoer   bool
		timeout  time.Duration
		ctx      context.Context
		ownTimer bool
	}{
		{"no deadline", true, 10 * time.Second, context.Background(), true},
		{"caller's deadline later", true, 10 * time.Second, late, true},
		{"caller's deadline sooner", true, 10 * time.Second, soon, false},
		{"no timeout", true, 0, context.Background(), false},
		{"other doer, no deadline", false, 10 * time.Second, context.Background(), true},
		{"other doer, caller's deadline later", false, 10 * time.Second, late, true},
		{"other doer, caller's deadline sooner", false, 10 * time.Second, soon, false},
		{"other doer, no timeout", false, 0, context.Background(), false},
		{"other doer, no timeout, caller's deadline", false, 0, late, false},
	}
	for _, tt := range tests {
		c := &Client{timeout: tt.timeout, goDoer: tt.goDoer}
		ctx, own := c.attemptContext(tt.ctx)
		_, watched := ctx.(*deadlineContext)
		_, bound := tt.ctx.Deadline()
		assert.Equal(t, !tt.goDoer && (tt.ownTimer || bound), watched, tt.name)
		assert.Equal(t, tt.ownTimer || watched, own.made(), tt.name)
		if !tt.ownTimer {
			if !watched {
				assert.Equal(t, tt.ctx, ctx, tt.name)
			}
			want, _ := tt.ctx.Deadline()
			got, _ := ctx.Deadline()
			assert.Equal(t, want, got, tt.name)
		} else {
			d, ok := ctx.Deadline()
			require.True(t, ok, tt.name)
			assert.WithinDuration(t, time.Now().Add(tt.timeout), d, time.Minute, tt.name)
		}
		own.release()
	}
}
