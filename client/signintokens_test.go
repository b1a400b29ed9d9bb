package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/gen"
)

const (
	createPattern = "POST /v1/sign_in_tokens"
	revokePattern = "POST /v1/sign_in_tokens/{id}/revoke"
)

func TestSignInTokensService_Create_request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  CreateSignInTokenRequest
		body string
	}{
		{"user only", CreateSignInTokenRequest{UserID: "user_12345"}, `{"user_id":"user_12345"}`},
		{
			"all fields",
			CreateSignInTokenRequest{UserID: "user_12345", OrgID: ptr("org_9"), ExpiresInSeconds: ptr[int64](3600)},
			`{"expires_in_seconds":3600,"org_id":"org_9","user_id":"user_12345"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				assert.NoError(t, err)
				assert.Equal(t, tt.body, string(body))
				assertHeaders(t, r, "my-app/1.0")
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tokenJSON)
			})
			res, err := f.client(t, WithUserAgent("my-app/1.0")).SignInTokens.Create(context.Background(), tt.req)
			require.NoError(t, err)
			require.NotNil(t, res.SignInToken)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, "application/json", res.ContentType)
			assert.Equal(t, "sit_2aBcD", res.SignInToken.ID)
			assert.Equal(t, SignInTokenStatusPending, res.SignInToken.Status)
			assert.Equal(t, tokenValue, *res.SignInToken.Token)
			assert.Equal(t, int64(1609459200), res.SignInToken.CreatedAt)
			assert.Equal(t, int32(1), f.hits.Load())
		})
	}
}

func TestSignInTokensService_Revoke_request(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, path string
	}{
		{"sit_2aBcD", "/v1/sign_in_tokens/sit_2aBcD/revoke"},
		{"tok_test_1234567890", "/v1/sign_in_tokens/tok_test_1234567890/revoke"},
		{"a%b", "/v1/sign_in_tokens/a%25b/revoke"},
		{"é", "/v1/sign_in_tokens/%C3%A9/revoke"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(revokePattern, func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, tt.path, r.URL.EscapedPath())
				assert.Equal(t, tt.id, r.PathValue("id"))
				body, err := io.ReadAll(r.Body)
				assert.NoError(t, err)
				assert.Empty(t, body)
				assertHeaders(t, r, "")
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tokenFor(r))
			})
			res, err := f.client(t).SignInTokens.Revoke(context.Background(), tt.id)
			require.NoError(t, err)
			require.NotNil(t, res.SignInToken)
			assert.Equal(t, SignInTokenStatusRevoked, res.SignInToken.Status)
			assert.Nil(t, res.SignInToken.Token)
			assert.Nil(t, res.SignInToken.URL)
		})
	}
}

var userAgentRE = regexp.MustCompile(`^signintokens-go/\d+\.\d+\.\d+ \(go\d[^)]*\)$`)

func assertHeaders(t *testing.T, r *http.Request, uaSuffix string) {
	t.Helper()
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "2026-05-12", r.Header.Get("Clerk-API-Version"))
	ua := r.Header.Get("User-Agent")
	if uaSuffix != "" {
		assert.True(t, strings.HasSuffix(ua, " "+uaSuffix), "User-Agent %q lacks suffix", ua)
		ua = strings.TrimSuffix(ua, " "+uaSuffix)
	}
	assert.Regexp(t, userAgentRE, ua)
}

// mapping is one row of the error-mapping table: what the server answers and
// what the caller gets.
type mapping struct {
	name        string
	status      int
	contentType string
	body        string
	want        string // "token", "clerk", or the *APIError message prefix
}

// documented404 are the rows of the mapping table for an operation that
// documents a 404 with Clerk's error body, as both sign-in token operations
// do: what any documented error status gets.
var documented404 = []mapping{
	{"404 json", 404, "application/json", notFoundJSON, "clerk"},
	{"404 problem+json", 404, "application/problem+json", notFoundJSON, "clerk"},
	{"404 html", 404, "text/html", "<h1>Not Found</h1>", "unknown content type"},
	{"404 malformed json", 404, "application/json", `{"errors":`, "invalid response body"},
	{"404 json not clerk-shaped", 404, "application/json", `{"message":"not found"}`, "invalid response body"},
	{"404 json empty errors", 404, "application/json", `{"errors":[]}`, "invalid response body"},
	{"404 json null errors", 404, "application/json", `{"errors":null}`, "invalid response body"},
}

// The rows of the mapping table that hold for any operation whose success
// body has an ID, whatever statuses it documents, success being an answer
// it succeeds with (TestMapping_everyOperation runs them).
func commonMappings(success string) []mapping {
	return []mapping{
		{"200 json", 200, "application/json", success, "token"},
		{"200 json charset", 200, "application/json; charset=utf-8", success, "token"},
		{"200 json upper case", 200, "Application/JSON", success, "token"},
		{"200 +json", 200, "application/vnd.clerk+json", success, "token"},
		{"200 text", 200, "text/plain", success, "unknown content type"},
		{"200 no content type", 200, "", success, "unknown content type"},
		{"200 jsonish type", 200, "text/jsonp", success, "unknown content type"},
		{"200 malformed json", 200, "application/json", `{"object":"sign_in_token","id":`, "invalid response body"},
		{"200 mistyped json", 200, "application/json", `{"id":42}`, "invalid response body"},
		{"200 empty body", 200, "application/json", ``, "invalid response body"},
		{"200 null", 200, "application/json", `null`, "invalid response body"},
		{"200 no id", 200, "application/json", `{"object":"sign_in_token"}`, "invalid response body"},
		{"200 too large", 200, "application/json", `{"id":"` + strings.Repeat("x", maxBodyBytes) + `"}`, "response body over"},
		{"401 clerk body", 401, "application/json", `{"errors":[{"message":"invalid key","long_message":"x","code":"authentication_invalid"}]}`, "API error occurred: authentication_invalid"},
		{"429 empty", 429, "", "", "API error occurred"},
		{"500 text", 500, "text/plain", "boom", "API error occurred"},
		{"502 html", 502, "text/html", "<html>bad gateway</html>", "API error occurred"},
		{"599 json", 599, "application/json", `{}`, "API error occurred"},
		{"201 json", 201, "application/json", success, "unknown status code"},
		{"204", 204, "", "", "unknown status code"},
		{"302", 302, "text/plain", "", "unknown status code"},
		{"304", 304, "", "", "unknown status code"},
	}
}

func TestSignInTokensService_Create_mapping(t *testing.T) {
	t.Parallel()
	rows := []mapping{
		{"403 json", 403, "application/json", `{"errors":[{"message":"not allowed","long_message":"x","code":"authorization_invalid"}]}`, "clerk"},
		{"422 json", 422, "application/json", `{"errors":[{"message":"is missing","long_message":"user_id is missing","code":"form_param_missing"}]}`, "clerk"},
		{"422 text", 422, "text/plain", "bad", "unknown content type"},
		{"400 json undocumented", 400, "application/json", `{"errors":[{"message":"m","long_message":"l","code":"bad_request"}]}`, "API error occurred: bad_request"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.reply(createPattern, row.status, row.contentType, row.body)
			id, err := testOps()["CreateSignInToken"].call(f.client(t, WithRetryPolicy(RetryPolicy{})))
			checkMapping(t, row, err, id, "sit_2aBcD")
		})
	}
}

func TestSignInTokensService_Revoke_mapping(t *testing.T) {
	t.Parallel()
	rows := []mapping{
		{"400 json", 400, "application/json", `{"errors":[{"message":"cannot be revoked","long_message":"x","code":"sign_in_token_cannot_be_revoked_code"}]}`, "clerk"},
		{"400 text", 400, "text/plain", "bad", "unknown content type"},
		{"403 json undocumented", 403, "application/json", `{"errors":[{"message":"m","long_message":"l","code":"authorization_invalid"}]}`, "API error occurred: authorization_invalid"},
		{"422 json undocumented", 422, "application/json", `{"errors":[{"message":"m","long_message":"l","code":"form_param_missing"}]}`, "API error occurred: form_param_missing"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.reply(revokePattern, row.status, row.contentType, row.body)
			id, err := testOps()["RevokeSignInToken"].call(f.client(t, WithRetryPolicy(RetryPolicy{})))
			checkMapping(t, row, err, id, "sit_2aBcD")
		})
	}
}

// checkMapping checks what a call of any operation returned for row: id is
// the ID of its model when it succeeded, which must be wantID.
func checkMapping(t *testing.T, row mapping, err error, id, wantID string) {
	t.Helper()
	switch row.want {
	case "token":
		require.NoError(t, err)
		assert.Equal(t, wantID, id)
		return
	case "clerk":
		var ce *ClerkErrors
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, row.status, ce.StatusCode)
		require.NotEmpty(t, ce.Errors)
		assert.NotEmpty(t, ce.Errors[0].Code)
		require.NotNil(t, ce.RawResponse)
		assert.Equal(t, row.status, ce.RawResponse.StatusCode)
		assert.Contains(t, err.Error(), fmt.Sprintf(": %d %s", row.status, ce.Errors[0].Code))
	default:
		var ae *APIError
		require.ErrorAs(t, err, &ae, "got %v", err)
		assert.Equal(t, row.status, ae.StatusCode)
		assert.True(t, strings.HasPrefix(ae.Message, row.want), "message %q, want prefix %q", ae.Message, row.want)
		assert.Equal(t, row.contentType, ae.ContentType)
		assert.LessOrEqual(t, len(ae.Body), maxBodyBytes)
		if len(row.body) <= maxBodyBytes {
			assert.Equal(t, row.body, ae.Body)
		}
		require.NotNil(t, ae.RawResponse)
		assert.Equal(t, row.status, ae.RawResponse.StatusCode)
	}
	assert.NotContains(t, err.Error(), "\n")
	assert.NotContains(t, err.Error(), "{", "error strings are not JSON")
	assertNoSecrets(t, err)
}

func TestSignInTokensService_ClerkErrors_fields(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Clerk-Trace-Id", "trace_from_header")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found","meta":{"param_name":"user_id"}},`+
			`{"message":"second","long_message":"second","code":"other"}],"meta":{"k":"v"},"clerk_trace_id":"trace_4f2a"}`)
	})
	_, err := f.client(t).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_404"})
	var ce *ClerkErrors
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 404, ce.StatusCode)
	assert.Equal(t, "trace_4f2a", ce.TraceID, "the body's trace id wins over the header")
	assert.Equal(t, map[string]any{"k": "v"}, ce.Meta)
	require.Len(t, ce.Errors, 2)
	assert.Equal(t, ClerkError{Code: "resource_not_found", Message: "not found", LongMessage: "Resource not found", Meta: map[string]any{"param_name": "user_id"}}, ce.Errors[0])
	assert.True(t, ce.HasCode("other"))
	assert.Equal(t, "clerk: POST /sign_in_tokens: 404 resource_not_found: not found (and 1 more) (trace trace_4f2a)", err.Error())
}

func TestSignInTokensService_ClerkErrors_traceHeader(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc(revokePattern, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Clerk-Trace-Id", "trace_from_header")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}]}`)
	})
	_, err := f.client(t).SignInTokens.Revoke(context.Background(), "sit_missing")
	var ce *ClerkErrors
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "trace_from_header", ce.TraceID)
	assert.Equal(t, "clerk: POST /sign_in_tokens/sit_missing/revoke: 404 resource_not_found: not found (trace trace_from_header)", err.Error())
}

// A status added to the document, as the generated descriptor then has
// it, becomes *ClerkErrors with no hand-kept list to edit.
func TestOperation_statusesComeFromTheDocument(t *testing.T) {
	t.Parallel()
	a := &answer{rsp: newResponse(418, "application/json", ""), contentType: "application/json", body: []byte(notFoundJSON)}
	documented := gen.CreateSignInTokenOperation()
	documented.Responses = maps.Clone(documented.Responses)
	documented.Responses[418] = "ClerkErrors"
	op := newOperation(documented, isToken)
	err := mapAnswer(op.bodies, op.valid, a, testOrigin("POST", "/x"), "", &gen.SignInToken{})
	var ce *ClerkErrors
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 418, ce.StatusCode)

	// The same status against the operation as the document has it.
	op = newOperation(gen.CreateSignInTokenOperation(), isToken)
	err = mapAnswer(op.bodies, op.valid, a, testOrigin("POST", "/x"), "", &gen.SignInToken{})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "API error occurred: resource_not_found", ae.Message)
}

func TestSignInTokensService_invalidInput(t *testing.T) {
	t.Parallel()
	creates := []struct {
		req  CreateSignInTokenRequest
		want string
	}{
		{CreateSignInTokenRequest{}, "user_id must not be empty"},
		{CreateSignInTokenRequest{UserID: "user_1", OrgID: ptr("")}, "org_id must not be empty when set"},
		{CreateSignInTokenRequest{UserID: "user_1", ExpiresInSeconds: ptr[int64](0)}, "expires_in_seconds must be at least 1"},
		{CreateSignInTokenRequest{UserID: "user_1", ExpiresInSeconds: ptr[int64](-5)}, "expires_in_seconds must be at least 1"},
		{CreateSignInTokenRequest{UserID: " "}, "user_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user_1\n"}, "user_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user\x001"}, "user_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user\u00a01"}, "user_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user_\xff"}, "user_id must be valid UTF-8"},
		{CreateSignInTokenRequest{UserID: "user_1", OrgID: ptr("org 1")}, "org_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user_1", OrgID: ptr("org_\x7f")}, "org_id must not contain whitespace or control characters"},
		{CreateSignInTokenRequest{UserID: "user_1", OrgID: ptr("org_\xc3")}, "org_id must be valid UTF-8"},
	}
	revokes := []struct {
		id, want string
	}{
		{"", "sign_in_token_id must not be empty"},
		{".", `sign_in_token_id must not be "." or ".."`},
		{"..", `sign_in_token_id must not be "." or ".."`},
		{"sit/1", `sign_in_token_id must not contain "/", "?" or "#"`},
		{"../x", `sign_in_token_id must not contain "/", "?" or "#"`},
		{"sit?x=1", `sign_in_token_id must not contain "/", "?" or "#"`},
		{"sit#1", `sign_in_token_id must not contain "/", "?" or "#"`},
		{"sit 1", "sign_in_token_id must not contain whitespace or control characters"},
		{"sit\t1", "sign_in_token_id must not contain whitespace or control characters"},
		{"sit\x001", "sign_in_token_id must not contain whitespace or control characters"},
		{"sit\u00a01", "sign_in_token_id must not contain whitespace or control characters"},
		{"sit\x7f", "sign_in_token_id must not contain whitespace or control characters"},
		{"sit_\xff", "sign_in_token_id must be valid UTF-8"},
	}
	f := setup(t)
	c := f.client(t)
	for _, tt := range creates {
		_, err := c.SignInTokens.Create(context.Background(), tt.req)
		require.ErrorIs(t, err, ErrInvalidRequest)
		assert.Equal(t, "clerk: invalid request: "+tt.want, err.Error())
	}
	for _, tt := range revokes {
		_, err := c.SignInTokens.Revoke(context.Background(), tt.id)
		require.ErrorIs(t, err, ErrInvalidRequest, "id %q", tt.id)
		assert.Equal(t, "clerk: invalid request: "+tt.want, err.Error(), "id %q", tt.id)
	}
	assert.Equal(t, int32(0), f.hits.Load(), "no request may be sent")
}

func TestSignInTokensService_transportError(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.client(t)
	f.server.Close()
	_, err := c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	require.Error(t, err)
	var ae *APIError
	assert.False(t, errors.As(err, &ae))
	assert.True(t, strings.HasPrefix(err.Error(), "clerk: POST /sign_in_tokens/sit_2aBcD/revoke: "), err.Error())
}

// Clerk's body on a status the document does not give the operation (a
// wrong key's 401, a 429, a 500) still yields its errors and trace id, and
// the one-line message names the code and the trace.
func TestSignInTokensService_APIError_clerkBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, body string
		wantTrace, wantErr string
	}{
		{
			"401 trace in body", "",
			`{"errors":[{"message":"Invalid authentication","long_message":"The provided secret key is invalid","code":"authentication_invalid"}],"clerk_trace_id":"trace_401"}`,
			"trace_401", "clerk: POST /sign_in_tokens: 401 API error occurred: authentication_invalid: Invalid authentication (trace trace_401)",
		},
		{
			"401 trace in header", "trace_hdr",
			`{"errors":[{"message":"Invalid authentication","long_message":"l","code":"authentication_invalid"},{"message":"m","long_message":"l","code":"other"}]}`,
			"trace_hdr", "clerk: POST /sign_in_tokens: 401 API error occurred: authentication_invalid: Invalid authentication (and 1 more) (trace trace_hdr)",
		},
		{
			"401 not clerk-shaped", "trace_hdr", `{"message":"unauthorized"}`,
			"trace_hdr", "clerk: POST /sign_in_tokens: 401 API error occurred (trace trace_hdr)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, _ *http.Request) {
				if tt.header != "" {
					w.Header().Set("X-Clerk-Trace-Id", tt.header)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, tt.body)
			})
			_, err := f.client(t).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.wantTrace, ae.TraceID)
			assert.Equal(t, tt.wantErr, err.Error())
			if strings.Contains(tt.body, "errors") {
				require.NotEmpty(t, ae.Errors)
				assert.Equal(t, "authentication_invalid", ae.Errors[0].Code)
			} else {
				assert.Empty(t, ae.Errors)
			}
		})
	}
}

// A 200 that does not answer the call is refused with an *APIError that
// keeps the status: a token for another user than the create asked for
// (handing it over would sign the wrong person in; a token was made, so
// the error matches ErrMaybeCreated), another token than the revoke named,
// or another object than a sign-in token.
func TestSignInTokensService_answerMustMatchCall(t *testing.T) {
	t.Parallel()
	other := strings.Replace(tokenJSON, `"user_12345"`, `"user_999"`, 1)
	tests := []struct {
		name, body, message string
		op                  gen.Operation
		maybeCreated        bool
	}{
		{"create for another user", other, "the sign-in token is for another user than the one asked for", gen.CreateSignInTokenOperation(), true},
		{"create of another object", strings.Replace(tokenJSON, `"sign_in_token"`, `"invitation"`, 1),
			"the answer is not a sign-in token", gen.CreateSignInTokenOperation(), true},
		{"revoke of another token", strings.Replace(revokedJSON, `"sit_2aBcD"`, `"sit_other"`, 1),
			"the sign-in token is another token than the one asked for", gen.RevokeSignInTokenOperation(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.reply(createPattern, 200, "application/json", tt.body)
			f.reply(revokePattern, 200, "application/json", tt.body)
			err := callOperation(f.client(t), tt.op)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 200, ae.StatusCode)
			assert.Contains(t, err.Error(), tt.message)
			assert.Equal(t, tt.maybeCreated, errors.Is(err, ErrMaybeCreated))
			assert.Equal(t, int32(1), f.hits.Load(), "not retried")
			assertNoSecrets(t, err)
		})
	}
}
