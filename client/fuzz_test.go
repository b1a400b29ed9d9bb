package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clerkgo/signintokens/gen"
	"github.com/stretchr/testify/require"
)

// FuzzAnswer feeds arbitrary answers to the mapping: it must never panic,
// and must return either a token or one of the typed errors with the status.
func FuzzAnswer(f *testing.F) {
	f.Add(200, "application/json", []byte(tokenJSON))
	f.Add(200, "text/plain", []byte(tokenJSON))
	f.Add(200, "application/json", []byte(`{"id":`))
	f.Add(404, "application/json", []byte(notFoundJSON))
	f.Add(422, "application/problem+json; charset=utf-8", []byte(`{"errors":[]}`))
	f.Add(400, "Application/JSON", []byte(`{"errors":null}`))
	f.Add(503, "text/html", []byte("<html></html>"))
	f.Add(302, "", []byte(nil))
	for _, o := range testOps() {
		f.Add(200, "application/json", []byte(o.success))
	}
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		for _, op := range gen.Operations() {
			a := &answer{rsp: newResponse(status, contentType, ""), contentType: contentType, body: body[:min(len(body), maxBodyBytes+1)]}
			id, err := testOpFor(t, op).decode(a, testOrigin(op.Method, op.Path)) // with the operation's own model
			var ce *ClerkErrors
			var ae *APIError
			switch {
			case err == nil:
				if id == "" || status != http.StatusOK {
					t.Fatalf("%s: success without a token for status %d", op.ID, status)
				}
			case errors.As(err, &ce):
				if ce.StatusCode != status || len(ce.Errors) == 0 {
					t.Fatalf("%s: ClerkErrors status %d with %d errors, want %d and at least one", op.ID, ce.StatusCode, len(ce.Errors), status)
				}
			case errors.As(err, &ae):
				if ae.StatusCode != status {
					t.Fatalf("%s: APIError status %d, want %d", op.ID, ae.StatusCode, status)
				}
			default:
				t.Fatalf("%s: untyped error %T: %v", op.ID, err, err)
			}
		}
	})
}

// FuzzRevokeID: every id the input check accepts becomes exactly one path
// segment between /sign_in_tokens/ and /revoke.
func FuzzRevokeID(f *testing.F) {
	for _, id := range []string{"sit_1", "", ".", "..", "../x", "a/b", "a%2Fb", "%2e%2e", "a?b", "a#b", "a b", "é", "a;b", "\x00"} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		p, err := gen.PrepareRevokeSignInToken("https://api.clerk.com/v1/", id)
		if err != nil {
			return
		}
		req := buildRequest(t, gen.RevokeSignInTokenOperation(), p)
		path := req.URL.EscapedPath()
		seg, ok := strings.CutPrefix(path, "/v1/sign_in_tokens/")
		if !ok {
			t.Fatalf("id %q: path %q", id, path)
		}
		seg, ok = strings.CutSuffix(seg, "/revoke")
		if !ok || seg == "" || strings.Contains(seg, "/") {
			t.Fatalf("id %q: path %q is not one segment", id, path)
		}
		if got, err := url.PathUnescape(seg); err != nil || got != id {
			t.Fatalf("id %q: segment %q unescapes to %q (%v)", id, seg, got, err)
		}
	})
}

// FuzzBuildRequest holds the requests the client makes (the path gen's
// Prepare functions give, appended to the base URL) to the stock generated
// builders (the path resolved against it): for every server URL New accepts
// and every input the checks accept, both build the same request.
func FuzzBuildRequest(f *testing.F) {
	for _, tt := range []struct{ server, id string }{
		{"https://api.clerk.com/v1", "sit_1"},
		{"https://api.clerk.com/v1/", "a%2Fb"},
		{"http://127.0.0.1:8080", "é"},
		{"https://api.clerk.com/a%2Fb/v1", "a;b"},
		{"https://api.clerk.com//v1", "%2e%2e"},
		{"https://[::1]:443/v1", "a+b"},
		{"https://api.clerk.com/v%201", "~x"},
		{"https://api.clerk.com/a/../v1", "sit_1"},
	} {
		f.Add(tt.server, tt.id)
	}
	f.Fuzz(func(t *testing.T, server, id string) {
		u, err := checkServerURL(server, true)
		if err != nil {
			return
		}
		base := u.String() + "/"
		p, err := gen.PrepareRevokeSignInToken(base, id)
		if err != nil {
			return
		}
		stock, stockErr := gen.NewRevokeSignInTokenRequest(base, id)
		assertSameBuild(t, "revoke", stock, stockErr, buildRequest(t, gen.RevokeSignInTokenOperation(), p))

		body := CreateSignInTokenRequest{UserID: id}
		p, err = gen.PrepareCreateSignInToken(base, body)
		require.NoError(t, err)
		stock, stockErr = gen.NewCreateSignInTokenRequest(base, body)
		assertSameBuild(t, "create", stock, stockErr, buildRequest(t, gen.CreateSignInTokenOperation(), p))
	})
}

func assertSameBuild(t *testing.T, op string, stock *http.Request, stockErr error, ours *http.Request) {
	t.Helper()
	if stockErr != nil {
		t.Fatalf("%s: the stock builder fails where ours does not: %v", op, stockErr)
	}
	if stock.Method != ours.Method || stock.URL.String() != ours.URL.String() {
		t.Fatalf("%s: stock %s %s, ours %s %s", op, stock.Method, stock.URL, ours.Method, ours.URL)
	}
	if stock.Header.Get("Content-Type") != ours.Header.Get("Content-Type") || stock.ContentLength != ours.ContentLength {
		t.Fatalf("%s: stock headers %v length %d, ours %v length %d", op, stock.Header, stock.ContentLength, ours.Header, ours.ContentLength)
	}
}

// buildRequest is the request of one attempt of p, a call of op, as the
// client makes it.
func buildRequest(t *testing.T, op gen.Operation, p gen.Call) *http.Request {
	t.Helper()
	c := &Client{setHeaders: headerSetter(testKey, "2026-05-12", "test")}
	req, _, err := newRequest(context.Background(), c, &op, p)
	require.NoError(t, err)
	return req
}
