package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/signintoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens"
	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// exchange is one answer as it came off the wire.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// recorder is a transport that keeps the last answer it carried.
type recorder struct {
	mu   sync.Mutex
	next http.RoundTripper
	last exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(rsp.Body)
	_ = rsp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = exchange{rsp.StatusCode, rsp.Header.Clone(), body}
	r.mu.Unlock()
	rsp.Body = io.NopCloser(bytes.NewReader(body))
	return rsp, nil
}

func (r *recorder) answer() exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// replay is an HTTP doer that gives this SDK's client a recorded answer.
type replay struct{ ex exchange }

func (r replay) Do(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    r.ex.status,
		Header:        r.ex.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(r.ex.body)),
		ContentLength: int64(len(r.ex.body)),
		Request:       req,
	}, nil
}

// env is the fake and the two clients of one test.
type env struct {
	base, key string
	fake      *clerktest.Fake
	rec       *recorder
	theirs    *signintoken.Client
}

func newEnv(t *testing.T, key string) *env {
	t.Helper()
	fake := clerktest.New(clerktest.WithUsers("user_26Ect5GuCCeaFWwSDiiKcgAGtVk"), clerktest.WithSecretKey("sk_test_contract"))
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{base: srv.URL + "/v1", key: key, fake: fake, rec: &recorder{next: http.DefaultTransport}}
	e.theirs = signintoken.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: &http.Client{Transport: e.rec}, URL: clerk.String(e.base), Key: clerk.String(key),
	}})
	return e
}

// ours decodes ex with this SDK's client, as the answer to op.
func ours(t *testing.T, ex exchange, op func(context.Context, *client.Client) (*client.SignInToken, error)) (*client.SignInToken, error) {
	t.Helper()
	c, err := client.New(client.WithSecretKey("sk_test_contract"), client.WithServerURL("http://127.0.0.1:1/v1"),
		client.WithHTTPClient(replay{ex}), client.WithRetryPolicy(client.RetryPolicy{}))
	require.NoError(t, err)
	return op(context.Background(), c)
}

// raw sends a request clerk-sdk-go cannot make, through the recorder.
func (e *env) raw(t *testing.T, path, body string) exchange {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	rsp, err := (&http.Client{Transport: e.rec}).Do(req)
	require.NoError(t, err)
	_ = rsp.Body.Close()
	return e.rec.answer()
}

// theirsDecode decodes ex as clerk-sdk-go's backend does: a token for a
// 2XX, an *clerk.APIErrorResponse with the status otherwise.
func theirsDecode(t *testing.T, ex exchange) (*clerk.SignInToken, error) {
	t.Helper()
	if ex.status < 300 {
		var tok clerk.SignInToken
		require.NoError(t, json.Unmarshal(ex.body, &tok))
		return &tok, nil
	}
	e := &clerk.APIErrorResponse{}
	require.NoError(t, json.Unmarshal(ex.body, e))
	e.HTTPStatusCode = ex.status
	return nil, e
}

func create(req client.CreateSignInTokenRequest) func(context.Context, *client.Client) (*client.SignInToken, error) {
	return func(ctx context.Context, c *client.Client) (*client.SignInToken, error) {
		res, err := c.SignInTokens.Create(ctx, req)
		if err != nil {
			return nil, err
		}
		return res.SignInToken, nil
	}
}

func revoke(id string) func(context.Context, *client.Client) (*client.SignInToken, error) {
	return func(ctx context.Context, c *client.Client) (*client.SignInToken, error) {
		res, err := c.SignInTokens.Revoke(ctx, id)
		if err != nil {
			return nil, err
		}
		return res.SignInToken, nil
	}
}

// sameToken compares clerk-sdk-go's decoding of a token with ours.
func sameToken(t *testing.T, theirs *clerk.SignInToken, ours *client.SignInToken) {
	t.Helper()
	require.NotNil(t, theirs)
	require.NotNil(t, ours)
	assert.Equal(t, theirs.Object, string(ours.Object))
	assert.Equal(t, theirs.ID, ours.ID)
	assert.Equal(t, theirs.Status, string(ours.Status))
	assert.Equal(t, theirs.UserID, ours.UserID)
	assert.Equal(t, theirs.Token, deref(ours.Token))
	assert.Equal(t, theirs.URL, ours.URL)
	assert.Equal(t, theirs.CreatedAt, ours.CreatedAt)
	assert.Equal(t, theirs.UpdatedAt, ours.UpdatedAt)
	assert.Greater(t, ours.CreatedAt, int64(1e12), "created_at is in milliseconds, as Clerk sends it")
}

// sameError compares clerk-sdk-go's decoding of an error answer with ours,
// and checks it is the answer Clerk gives: the status, the first error's
// code and its meta.param_name.
func sameError(t *testing.T, theirErr, ourErr error, status int, code, param string) {
	t.Helper()
	var theirs *clerk.APIErrorResponse
	require.ErrorAs(t, theirErr, &theirs)
	var ce *client.ClerkErrors
	var ae *client.APIError
	var gotStatus int
	var gotTrace string
	var gotErrors []client.ClerkError
	switch {
	case errors.As(ourErr, &ce):
		gotStatus, gotTrace, gotErrors = ce.StatusCode, ce.TraceID, ce.Errors
	case errors.As(ourErr, &ae):
		gotStatus, gotTrace, gotErrors = ae.StatusCode, ae.TraceID, ae.Errors
	default:
		t.Fatalf("our client's error is %T: %v", ourErr, ourErr)
	}
	assert.Equal(t, status, theirs.HTTPStatusCode)
	assert.Equal(t, theirs.HTTPStatusCode, gotStatus)
	assert.NotEmpty(t, theirs.TraceID)
	assert.Equal(t, theirs.TraceID, gotTrace)
	require.Len(t, gotErrors, len(theirs.Errors))
	for i, te := range theirs.Errors {
		oe := gotErrors[i]
		assert.Equal(t, te.Code, oe.Code)
		assert.Equal(t, te.Message, oe.Message)
		assert.Equal(t, te.LongMessage, oe.LongMessage)
		var meta map[string]any
		if len(te.Meta) > 0 {
			require.NoError(t, json.Unmarshal(te.Meta, &meta))
		}
		assert.Equal(t, len(meta), len(oe.Meta), "meta of error %d", i)
		for k, v := range meta {
			assert.Equal(t, v, oe.Meta[k], "meta.%s of error %d", k, i)
		}
	}
	require.NotEmpty(t, theirs.Errors)
	assert.Equal(t, code, theirs.Errors[0].Code)
	if param != "" {
		var meta map[string]any
		require.NoError(t, json.Unmarshal(theirs.Errors[0].Meta, &meta))
		assert.Equal(t, param, meta["param_name"])
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// clerk-sdk-go and this SDK target the same Clerk API version: the one
// openapi.yaml describes, sent in Clerk-API-Version.
func TestClerkSDKGo_apiVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sk_test_contract")
	_, err := e.theirs.Create(context.Background(), &signintoken.CreateParams{UserID: clerk.String("user_26Ect5GuCCeaFWwSDiiKcgAGtVk")})
	require.NoError(t, err)
	c, err := client.New(client.WithSecretKey("sk_test_contract"), client.WithServerURL(e.base))
	require.NoError(t, err)
	_, err = c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_26Ect5GuCCeaFWwSDiiKcgAGtVk"})
	require.NoError(t, err)

	reqs := e.fake.Requests()
	require.Len(t, reqs, 2)
	for i, who := range []string{"clerk-sdk-go", "this SDK"} {
		assert.Equal(t, signintokens.APIVersion, reqs[i].Header.Get("Clerk-API-Version"), who)
	}
}
