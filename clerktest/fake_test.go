package clerktest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/gen"
)

// specCheck is a transport that fails the test when the fake answers a
// documented status with a body the OpenAPI document does not allow.
type specCheck struct {
	t    *testing.T
	next http.RoundTripper
}

func (s specCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := s.next.RoundTrip(req)
	if err != nil {
		return rsp, err
	}
	body, err := io.ReadAll(rsp.Body)
	_ = rsp.Body.Close()
	if err != nil {
		return nil, err
	}
	rsp.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := specRouter().FindRoute(req)
	if err != nil {
		return rsp, nil // not an operation of the document
	}
	err = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: rsp.StatusCode,
		Header: rsp.Header,
		Body:   io.NopCloser(bytes.NewReader(body)),
	})
	assert.NoError(s.t, err, "answer to %s %s does not match the document", req.Method, req.URL.Path)
	return rsp, nil
}

// setup starts a fake with two users and returns a client for it whose every
// answer is checked against the document.
func setup(t *testing.T, opts ...Option) (*Server, *client.Client) {
	t.Helper()
	srv := NewServer(t, append([]Option{WithUsers("user_1", "user_2")}, opts...)...)
	c := srv.Client(
		client.WithHTTPClient(&http.Client{Transport: specCheck{t: t, next: http.DefaultTransport}}),
		client.WithRetryPolicy(client.RetryPolicy{}),
	)
	return srv, c
}

func create(t *testing.T, c *client.Client, userID string) *client.SignInToken {
	t.Helper()
	res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: userID})
	require.NoError(t, err)
	require.NotNil(t, res.SignInToken)
	return res.SignInToken
}

func TestFake_createAndRevoke(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv, c := setup(t, WithClock(func() time.Time { return now }))
	tok := create(t, c, "user_1")

	assert.True(t, strings.HasPrefix(tok.ID, "sit_"), tok.ID)
	assert.Equal(t, gen.SignInTokenObjectSignInToken, tok.Object)
	assert.Equal(t, client.SignInTokenStatusPending, tok.Status)
	assert.Equal(t, "user_1", tok.UserID)
	assert.Equal(t, now.UnixMilli(), tok.CreatedAt, "Clerk sends milliseconds")
	assert.Equal(t, now.UnixMilli(), tok.UpdatedAt)
	assert.Equal(t, now, tok.Created().UTC())
	require.NotNil(t, tok.Token)
	assert.Len(t, strings.Split(*tok.Token, "."), 3, "JWT-shaped")
	require.NotNil(t, tok.URL)
	assert.Equal(t, srv.URL+"/tickets/accept?ticket="+*tok.Token, *tok.URL)

	res, err := c.SignInTokens.Revoke(context.Background(), tok.ID)
	require.NoError(t, err)
	assert.Equal(t, client.SignInTokenStatusRevoked, res.SignInToken.Status)
	assert.Nil(t, res.SignInToken.Token, "the token itself comes only with create")
	held, ok := srv.SignInToken(tok.ID)
	require.True(t, ok)
	assert.Equal(t, gen.SignInTokenStatusRevoked, held.Status)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/v1/sign_in_tokens", reqs[0].Path)
	assert.JSONEq(t, `{"user_id":"user_1"}`, string(reqs[0].Body))
	assert.Equal(t, "/v1/sign_in_tokens/"+tok.ID+"/revoke", reqs[1].Path)
	assert.Equal(t, []int{200, 200}, []int{reqs[0].Status, reqs[1].Status})
}

// Each error Clerk documents, through the SDK.
func TestFake_errors(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	accepted := create(t, c, "user_1")
	require.NoError(t, srv.AcceptSignInToken(accepted.ID))
	revoked := create(t, c, "user_2")
	_, err := c.SignInTokens.Revoke(context.Background(), revoked.ID)
	require.NoError(t, err)

	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"unknown user", func() error {
			_, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_nobody"})
			return err
		}, 404, "resource_not_found"},
		{"unknown token", func() error { _, err := c.SignInTokens.Revoke(ctx, "sit_nothing"); return err }, 404, "resource_not_found"},
		{"revoke accepted", func() error { _, err := c.SignInTokens.Revoke(ctx, accepted.ID); return err }, 400, "sign_in_token_cannot_be_revoked_code"},
		{"revoke revoked", func() error { _, err := c.SignInTokens.Revoke(ctx, revoked.ID); return err }, 400, "sign_in_token_cannot_be_revoked_code"},
	}
	for _, tt := range tests {
		err := tt.call()
		var ce *client.ClerkErrors
		require.ErrorAs(t, err, &ce, tt.name)
		assert.Equal(t, tt.status, ce.StatusCode, tt.name)
		assert.True(t, ce.HasCode(tt.code), "%s: %v", tt.name, err)
		assert.True(t, strings.HasPrefix(ce.TraceID, "trace_"), tt.name)
		assert.Equal(t, ce.RawResponse.Header.Get(TraceHeader), ce.TraceID, tt.name)
	}
}

// Requests the SDK would refuse to send, sent by hand: the fake answers as
// Clerk would, from the document and its own rules.
func TestFake_rawRequests(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	const jsonType = "application/json"
	spaces := strings.Repeat(" ", 5<<20)
	tests := []rawRequest{
		{"no body", "", "/sign_in_tokens", srv.SecretKey(), "", "", 422, "form_param_missing", "user_id", "is missing", "user_id must be included."},
		{"no user_id", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{}`, 422, "form_param_missing", "user_id", "is missing", "user_id must be included."},
		{"empty user_id", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":""}`, 422, "form_param_missing", "user_id", "is missing", "user_id must be included."},
		{"expires 0", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1","expires_in_seconds":0}`, 422, "form_param_value_invalid", "expires_in_seconds", "is invalid", "expires_in_seconds is invalid"},
		{"expires a string", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1","expires_in_seconds":"1h"}`, 422, "form_param_value_invalid", "expires_in_seconds", "is invalid", ""},
		{"unknown field", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1","role":"admin"}`, 422, "form_param_unknown", "role", "is unknown", "role is not a valid parameter for this request."},
		{"malformed", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":`, 400, "request_body_invalid", "", "", ""},
		{"trailing data", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1"} {"user_id":"user_2"}`, 400, "request_body_invalid", "", "", ""},
		{"5 MB of trailing spaces", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1"}` + spaces, 413, "request_body_too_large", "", "", ""},
		{"5 MB of leading spaces", "", "/sign_in_tokens", srv.SecretKey(), jsonType, spaces + `{"user_id":"user_1"}`, 413, "request_body_too_large", "", "", ""},
		{"text body", "", "/sign_in_tokens", srv.SecretKey(), "text/plain", `user_id=user_1`, 422, "form_param_value_invalid", "", "is invalid", ""},
		{"empty org_id", "", "/sign_in_tokens", srv.SecretKey(), jsonType, `{"user_id":"user_1","org_id":""}`, 422, "form_param_value_invalid", "org_id", "is invalid", ""},
		{"no key", "", "/sign_in_tokens", "", jsonType, `{"user_id":"user_1"}`, 401, "authorization_header_format_invalid", "", "Invalid Authorization header format", "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'"},
		{"wrong key", "", "/sign_in_tokens", "sk_test_wrong", jsonType, `{"user_id":"user_1"}`, 401, "clerk_key_invalid", "",
			"The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.", "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."},
		{"no such route", "", "/users", srv.SecretKey(), jsonType, `{}`, 404, "resource_not_found", "", "not found", "Resource not found"},
		{"unknown method", http.MethodGet, "/sign_in_tokens", srv.SecretKey(), "", "", 404, "resource_not_found", "", "not found", ""},
		{"double slash", "", "/sign_in_tokens//revoke", srv.SecretKey(), "", "", 404, "resource_not_found", "", "not found", ""},
		{"dot dot", "", "/sign_in_tokens/x/../sit_1/revoke", srv.SecretKey(), "", "", 404, "resource_not_found", "", "not found", ""},
		{"double slash, no key", "", "/sign_in_tokens//revoke", "", "", "", 401, "authorization_header_format_invalid", "", "", ""},
	}
	// The subtests run in parallel; the group returns when all have ended,
	// so that the checks after it see every request.
	t.Run("requests", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				checkRawRequest(t, srv.URL, tt)
			})
		}
	})
	require.NotEmpty(t, srv.Requests())
	for _, r := range srv.Requests() {
		assert.NotEqual(t, 200, r.Status, "%s %s", r.Method, r.Path)
	}
	assert.Empty(t, srv.SignInTokens(), "no request made a token")
}

// rawRequest is one request to the fake that the SDK would never send, and
// the error Clerk answers it with.
type rawRequest struct {
	name, method, path, key, contentType, body string
	status                                     int
	code, param, message, long                 string
}

// checkRawRequest sends tt to the fake at url, redirects refused, and
// checks its Clerk-shaped error.
func checkRawRequest(t *testing.T, url string, tt rawRequest) {
	t.Helper()
	req, err := http.NewRequest(cmp.Or(tt.method, http.MethodPost), url+tt.path, strings.NewReader(tt.body))
	require.NoError(t, err)
	if tt.key != "" {
		req.Header.Set("Authorization", "Bearer "+tt.key)
	}
	if tt.contentType != "" {
		req.Header.Set("Content-Type", tt.contentType)
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rsp, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	assert.Equal(t, tt.status, rsp.StatusCode)
	assert.Equal(t, "application/json", rsp.Header.Get("Content-Type"))
	var body gen.ClerkErrors
	require.NoError(t, json.NewDecoder(rsp.Body).Decode(&body))
	require.Len(t, body.Errors, 1)
	assert.Equal(t, tt.code, body.Errors[0].Code)
	if tt.param != "" {
		assert.Equal(t, tt.param, body.Errors[0].Meta["param_name"])
	}
	if tt.message != "" {
		assert.Equal(t, tt.message, body.Errors[0].Message)
	}
	if tt.long != "" {
		assert.Equal(t, tt.long, body.Errors[0].LongMessage)
	}
	require.NotNil(t, body.ClerkTraceID)
	assert.Equal(t, rsp.Header.Get(TraceHeader), *body.ClerkTraceID)
}

func TestFake_expiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv, c := setup(t, WithClock(clock))
	res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1", ExpiresInSeconds: ptr[int64](60)})
	require.NoError(t, err)
	fresh := create(t, c, "user_2")

	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	assert.ErrorContains(t, srv.AcceptSignInToken(res.SignInToken.ID), "expired")
	assert.NoError(t, srv.AcceptSignInToken(fresh.ID), "the default lifetime is 30 days")
	held, _ := srv.SignInToken(res.SignInToken.ID)
	assert.Equal(t, gen.SignInTokenStatusPending, held.Status, "an expired token stays pending")
	_, err = c.SignInTokens.Revoke(context.Background(), res.SignInToken.ID)
	assert.NoError(t, err, "and can still be revoked")
}

func TestFake_signInURL(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	tok := create(t, c, "user_1")
	for i, want := range []int{200, 400} {
		rsp, err := http.Get(*tok.URL)
		require.NoError(t, err)
		_ = rsp.Body.Close()
		assert.Equal(t, want, rsp.StatusCode, "visit %d", i+1)
	}
	held, _ := srv.SignInToken(tok.ID)
	assert.Equal(t, gen.SignInTokenStatusAccepted, held.Status)
}

func TestFake_concurrent(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, WithAnyUser())
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_" + strconv.Itoa(i)})
			if !assert.NoError(t, err) {
				return
			}
			_, err = c.SignInTokens.Revoke(context.Background(), res.SignInToken.ID)
			assert.NoError(t, err)
			_ = srv.Requests()
		})
	}
	wg.Wait()
	toks := srv.SignInTokens()
	assert.Len(t, toks, 50)
	for _, tok := range toks {
		assert.Equal(t, gen.SignInTokenStatusRevoked, tok.Status)
	}
	assert.Len(t, srv.Requests(), 100)
}

func TestFake_faultReplacesAnswer(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.FailNext(2, Fault{Status: 502, Header: http.Header{"Content-Type": {"text/html"}, "X-Edge": {"1"}}, Body: "<html>bad gateway</html>"})
	for range 2 {
		_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
		var ae *client.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 502, ae.StatusCode)
		assert.Equal(t, "<html>bad gateway</html>", ae.Body)
		assert.Equal(t, "1", ae.RawResponse.Header.Get("X-Edge"))
	}
	assert.Empty(t, srv.SignInTokens(), "a fault replaces the request")
	create(t, c, "user_1") // the third request is answered as usual
}

func TestFake_faultDelays(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.FailNext(1, Fault{Delay: 10 * time.Millisecond})
	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.NoError(t, err, "a delay alone answers as usual, later")

	srv.FailNext(1, Fault{Delay: time.Minute})
	c2 := srv.Client(client.WithTimeout(20*time.Millisecond), client.WithRetryPolicy(client.RetryPolicy{}))
	_, err = c2.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFake_faultDrops(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	srv.FailNext(1, Fault{Drop: true})
	_, err := c.SignInTokens.Revoke(context.Background(), "sit_x")
	require.Error(t, err)
	var ae *client.APIError
	assert.False(t, errors.As(err, &ae), "a dropped connection is a transport error")
	assert.Equal(t, 0, srv.Requests()[0].Status)
}

func TestFake_faultAfterProcessing(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	c := srv.Client(client.WithRetryPolicy(client.RetryPolicy{MaxRetries: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}))
	tok := create(t, c, "user_1")
	srv.FailNext(1, Fault{Status: 503, AfterProcessing: true})
	_, err := c.SignInTokens.Revoke(context.Background(), tok.ID)
	var ce *client.ClerkErrors
	require.ErrorAs(t, err, &ce, "the retry finds the token already revoked")
	assert.True(t, ce.HasCode("sign_in_token_cannot_be_revoked_code"))
	held, _ := srv.SignInToken(tok.ID)
	assert.Equal(t, gen.SignInTokenStatusRevoked, held.Status)
}

func TestFake_rateLimit(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	srv, c := setup(t, WithClock(func() time.Time { return now }))
	srv.SetRateLimit(2, 10*time.Second)
	create(t, c, "user_1")
	create(t, c, "user_1")
	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 429, ae.StatusCode)
	assert.Equal(t, 10*time.Second, ae.RetryAfter)
	assert.Equal(t, "API error occurred: too_many_requests", ae.Message)
	assert.Len(t, srv.SignInTokens(), 2)
	srv.SetRateLimit(0, 0)
	create(t, c, "user_1")
}

func ptr[T any](v T) *T { return &v }

// An expires_in_seconds too large for a time.Duration is cut to the longest
// one, never wrapped into an expiry in the past.
func TestFake_expiryOverflow(t *testing.T) {
	t.Parallel()
	for _, secs := range []int64{9223372037, 1<<63 - 1} {
		t.Run(strconv.FormatInt(secs, 10), func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1", ExpiresInSeconds: &secs})
			require.NoError(t, err)
			require.NoError(t, srv.AcceptSignInToken(res.SignInToken.ID), "a token with the longest lifetime has not expired")
			parts := strings.Split(*res.SignInToken.Token, ".")
			require.Len(t, parts, 3)
			claims, err := base64.RawURLEncoding.DecodeString(parts[1])
			require.NoError(t, err)
			var jwt struct{ Iat, Exp int64 }
			require.NoError(t, json.Unmarshal(claims, &jwt))
			assert.Greater(t, jwt.Exp, jwt.Iat, "exp after iat")
		})
	}
}

// The fake remembers the latest requests only, and the start of each body,
// so that a long-running fake-server does not grow.
func TestFake_requestRecordIsBounded(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithAnyUser(), WithRequestLimit(3))
	big := `{"user_id":"user_1","org_id":"` + strings.Repeat("o", 100<<10) + `"}`
	for i := range 5 {
		body := fmt.Sprintf(`{"user_id":"user_%d"}`, i)
		if i == 4 {
			body = big
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/sign_in_tokens", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.SecretKey())
		req.Header.Set("Content-Type", "application/json")
		rsp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		_ = rsp.Body.Close()
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, `{"user_id":"user_2"}`, string(reqs[0].Body), "the oldest are forgotten")
	assert.Len(t, reqs[2].Body, RecordedBodyBytes, "a body is kept only in part")
	assert.Equal(t, 200, reqs[2].Status)
	srv.ClearRequests()
	assert.Empty(t, srv.Requests())
	assert.Equal(t, 2000, DefaultRequestLimit)
}

// WithLog writes a line per request, with no header or body.
func TestFake_log(t *testing.T) {
	t.Parallel()
	var buf safeBuffer
	srv := NewServer(t, WithAnyUser(), WithLog(&buf))
	_, err := srv.Client().SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.NoError(t, err)
	_, err = srv.Client().SignInTokens.Revoke(context.Background(), "sit_nope")
	require.Error(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, `^\S+ POST /v1/sign_in_tokens 200 \S+ trace_[0-9a-f]+$`, lines[0])
	assert.Regexp(t, `^\S+ POST /v1/sign_in_tokens/sit_nope/revoke 404 \S+ trace_[0-9a-f]+$`, lines[1])
	assert.NotContains(t, buf.String(), srv.SecretKey())
}

// safeBuffer is a bytes.Buffer for concurrent writers.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The fake answers an Authorization header as Clerk does: a header that is
// not "Bearer <key>" is authorization_header_format_invalid, a well-formed
// key it does not know clerk_key_invalid, each with a trace id.
func TestFake_authorizationHeader(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithUsers("user_1"))
	tests := []struct{ header, code string }{
		{"", "authorization_header_format_invalid"},
		{"Basic dXNlcjpwdw==", "authorization_header_format_invalid"},
		{"Bearer ", "authorization_header_format_invalid"},
		{"Bearer a b", "authorization_header_format_invalid"},
		{"bearer " + srv.SecretKey(), "authorization_header_format_invalid"},
		{"Bearer sk_test_unknown", "clerk_key_invalid"},
		{"Bearer " + srv.SecretKey() + "x", "clerk_key_invalid"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/sign_in_tokens", strings.NewReader(`{"user_id":"user_1"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		rsp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		var body struct {
			Errors []struct {
				Code string `json:"code"`
			} `json:"errors"`
			TraceID string `json:"clerk_trace_id"`
		}
		require.NoError(t, json.NewDecoder(rsp.Body).Decode(&body))
		rsp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, rsp.StatusCode, tt.header)
		if assert.Len(t, body.Errors, 1, tt.header) {
			assert.Equal(t, tt.code, body.Errors[0].Code, tt.header)
		}
		assert.NotEmpty(t, body.TraceID, tt.header)
	}
}
