package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Printing a token shows neither the token nor the ticket in its URL, while
// the fields keep their values.
func TestSignInToken_printingRedacts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 200, "application/json", tokenJSON)
	res, err := f.client(t).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)
	tok := res.SignInToken
	require.Equal(t, tokenValue, *tok.Token)
	require.Contains(t, *tok.URL, tokenValue)

	var printed []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		printed = append(printed, fmt.Sprintf(format, tok), fmt.Sprintf(format, *tok), fmt.Sprintf(format, res))
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("created", "token", tok, "value", *tok, "response", res)
	}
	printed = append(printed, buf.String())
	for _, s := range printed {
		assert.NotContains(t, s, tokenValue)
		assert.NotContains(t, s, "eyJ")
	}
	assert.Equal(t, "{CreatedAt:1609459200 ID:sit_2aBcD Object:sign_in_token Status:pending Token:[redacted] "+
		"UpdatedAt:1609459200 URL:https://accounts.example.com/v1/tickets/accept?[redacted] UserID:user_12345}", tok.String())
	assert.Contains(t, buf.String(), `"url":"https://accounts.example.com/v1/tickets/accept?[redacted]"`)
}

// A URL marked x-secret: query prints where it leads, never its query or
// fragment.
func TestSignInToken_urlRedacted(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://a.example.com/v1/tickets/accept?ticket=abc": "https://a.example.com/v1/tickets/accept?[redacted]",
		"https://a.example.com/sign-in#/?__clerk_ticket=abc": "https://a.example.com/sign-in#[redacted]",
		"https://a.example.com/plain":                        "https://a.example.com/plain",
		"https://user:pw@a.example.com/":                     "[redacted]",
		"mailto:abc":                                         "[redacted]",
		"%zz":                                                "[redacted]",
	}
	for in, want := range tests {
		assert.Contains(t, SignInToken{URL: &in}.String(), " URL:"+want+" ", in)
		assert.Equal(t, want, logged(t, SignInToken{URL: &in}, "url"), in)
	}
	assert.Contains(t, SignInToken{}.String(), " URL:<nil> ")
	assert.Equal(t, "<nil>", logged(t, SignInToken{}, "url"))
}

// logged is the value log/slog records under key for v.
func logged(t *testing.T, v slog.LogValuer, key string) string {
	t.Helper()
	for _, a := range v.LogValue().Group() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	t.Fatalf("no %q in the record", key)
	return ""
}

// The logger writes one record per attempt, with what an operator needs and
// nothing that is a secret.
func TestWithLogger(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{status(503, "X-Clerk-Trace-Id", "trace_1"), status(200)}}
	f.mux.Handle(revokePattern, s)
	var buf bytes.Buffer
	c := f.client(t, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, err := c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	assert.Equal(t, "POST", first["method"])
	assert.Equal(t, "/v1/sign_in_tokens/sit_2aBcD/revoke", first["path"])
	assert.Equal(t, 503.0, first["status"])
	assert.Equal(t, 1.0, first["attempt"])
	assert.Equal(t, "trace_1", first["trace_id"])
	assert.Equal(t, "server unavailable", first["retry"])
	assert.Contains(t, first, "duration")
	assert.Equal(t, 2.0, second["attempt"])
	assert.Equal(t, 200.0, second["status"])
	assert.Equal(t, float64(500*1e6), second["wait"])
	assert.NotContains(t, buf.String(), testKey)
	assert.NotContains(t, buf.String(), tokenValue)
	assert.NotContains(t, buf.String(), "Bearer")
}

// A server that echoes the key it was sent, in every text field of Clerk's
// error body and in the trace header, gets it back replaced: in Error(), in
// every printed form, in the fields and in the logger's records.
func TestClient_echoedKeyIsRedacted(t *testing.T) {
	t.Parallel()
	for _, status := range []int{404, 500, 429} { // ClerkErrors, APIError, a retried APIError
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, r *http.Request) {
				key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Clerk-Trace-Id", "trace-"+key)
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
					"code": "code_" + key, "message": "bad key " + key, "long_message": "the key " + key,
					"meta": map[string]string{"key": key},
				}}})
			})
			var logs bytes.Buffer
			c := f.client(t, WithRetryPolicy(RetryPolicy{MaxRetries: 1, MaxRetryAfter: time.Second}),
				WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			_, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "[redacted]")
			assertNoSecrets(t, err)
			assert.NotContains(t, logs.String(), testKey)
			assert.NotContains(t, fmt.Sprintf("%+v", errors.Unwrap(err)), testKey)
			var ce *ClerkErrors
			var ae *APIError
			switch {
			case errors.As(err, &ce):
				assert.NotContains(t, fmt.Sprintf("%+v %v", ce.Errors, ce.TraceID), testKey)
			case errors.As(err, &ae):
				assert.NotContains(t, fmt.Sprintf("%+v %v %s", ae.Errors, ae.TraceID, ae.Body), testKey)
			default:
				t.Fatalf("untyped error %T", err)
			}
		})
	}
}

// Text from outside is one printable line in an error: control characters,
// NEL, line and paragraph separators, CSI and bidi overrides are escaped.
func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"plain text":             "plain text",
		"two\nlines\r":           `two\nlines\r`,
		"esc \x1b[31mred":        `esc \x1b[31mred`,
		"nel \u0085 csi \u009b":  `nel \u0085 csi \u009b`,
		"ls \u2028 ps \u2029":    `ls \u2028 ps \u2029`,
		"bidi \u202eevil":        `bidi \u202eevil`,
		"invalid \xff utf-8":     `invalid \xff utf-8`,
		"unicode café, 東京 stays": "unicode café, 東京 stays",
	}
	for in, want := range tests {
		assert.Equal(t, want, oneLine(in), "%q", in)
	}
}

// A server's message with line breaks and bidi overrides is one printable
// line in the error.
func TestClient_serverTextIsOneLine(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 404, "application/json",
		`{"errors":[{"code":"x\u2028y","message":"a\nb\u0085c\u202ed","long_message":"l"}],"clerk_trace_id":"t\u2029\u009b"}`)
	_, err := f.client(t).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.Error(t, err)
	assert.Equal(t, `clerk: POST /sign_in_tokens: 404 x\u2028y: a\nb\u0085c\u202ed (trace t\u2029\u009b)`, err.Error())
}

// A server that echoes the key JSON-escaped (\u0073k_test_...) gets no key
// back once the body is decoded: not in Error(), nor any printed form, nor
// json.Marshal of the error, nor the decoded fields, nor the body kept.
func TestClient_escapedEchoedKeyIsRedacted(t *testing.T) {
	t.Parallel()
	escaped := `\u00` + fmt.Sprintf("%x", testKey[0]) + testKey[1:2] + `\u005f` + testKey[3:] // \u0073k\u005ftest_...
	body := `{"errors":[{"code":"c_` + escaped + `","message":"m ` + escaped + `","long_message":"l ` + escaped +
		`","meta":{"` + escaped + `":"` + escaped + `"}}],"clerk_trace_id":"t_` + escaped + `"}`
	var decoded any
	require.NoError(t, json.Unmarshal([]byte(body), &decoded))
	require.Contains(t, fmt.Sprint(decoded), testKey, "the body decodes to the key")
	require.NotContains(t, body, testKey)
	for _, status := range []int{401, 404, 422, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.reply(createPattern, status, "application/json", body)
			_, err := f.client(t, WithRetryPolicy(RetryPolicy{})).SignInTokens.Create(context.Background(),
				CreateSignInTokenRequest{UserID: "user_12345"})
			require.Error(t, err)
			assertNoSecrets(t, err)
			js, jerr := json.Marshal(err)
			require.NoError(t, jerr)
			var back any
			require.NoError(t, json.Unmarshal(js, &back))
			assert.NotContains(t, fmt.Sprint(back), testKey, "json.Marshal of the error, decoded")
			var ce *ClerkErrors
			var ae *APIError
			switch {
			case errors.As(err, &ce):
				assert.NotContains(t, fmt.Sprintf("%+v %v", ce.Errors, ce.TraceID), testKey)
			case errors.As(err, &ae):
				require.NotEmpty(t, ae.Errors, "Clerk's error shape is kept")
				require.NoError(t, json.Unmarshal([]byte(ae.Body), &back))
				assert.NotContains(t, fmt.Sprint(back), testKey, "the body kept, decoded")
				assert.NotContains(t, fmt.Sprintf("%+v %v", ae.Errors, ae.TraceID), testKey)
			default:
				t.Fatalf("untyped error %T", err)
			}
		})
	}
}

// The attempt hook is told of each attempt, as the logger is, in a typed
// value: its status or its cleaned error, and whether the call tries again.
func TestWithAttemptHook(t *testing.T) {
	t.Parallel()
	f := setup(t)
	s := &script{answers: []http.HandlerFunc{status(503, "X-Clerk-Trace-Id", "trace_1"), status(200)}}
	f.mux.Handle(revokePattern, s)
	var got []Attempt
	c := f.client(t, WithAttemptHook(func(_ context.Context, a Attempt) {
		a.Took = 0
		got = append(got, a)
	}))
	_, err := c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.NoError(t, err)
	path := "/v1/sign_in_tokens/sit_2aBcD/revoke"
	assert.Equal(t, []Attempt{
		{Method: "POST", Path: path, Number: 1, StatusCode: 503, TraceID: "trace_1", Retry: true,
			RetryReason: "server unavailable", NextWait: 500 * time.Millisecond},
		{Method: "POST", Path: path, Number: 2, Waited: 500 * time.Millisecond, StatusCode: 200},
	}, got)

	// A transport error whose text holds the key reaches the hook cleaned.
	var errs []string
	c = f.client(t, WithRetryPolicy(RetryPolicy{}), WithHTTPClient(failingDoer{errors.New("proxy said: Bearer " + testKey + "\n\x1b[2J")}), WithAttemptHook(func(_ context.Context, a Attempt) { errs = append(errs, a.Err.Error()) }))
	_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.Error(t, err)
	require.Len(t, errs, 1)
	assert.NotContains(t, errs[0], testKey)
	assert.NotContains(t, errs[0], "\n")
	assert.NotContains(t, errs[0], "\x1b")
}

// failingDoer fails every request with err, having read none of it.
type failingDoer struct{ err error }

func (d failingDoer) Do(*http.Request) (*http.Response, error) { return nil, d.err }
