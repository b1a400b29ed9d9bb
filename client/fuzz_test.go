package client

import (
	"errors"
	"net/http"
	"testing"

	"github.com/clerkgo/signintokens/gen"
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
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			t.Skip()
		}
		for _, op := range []string{"create", "revoke"} {
			rsp := newResponse(status, contentType, string(body))
			var tok *SignInToken
			var err error
			if op == "create" {
				tok, err = answer(op, rsp, gen.ParseCreateSignInTokenResponse, testClock(nil).now())
			} else {
				tok, err = answer(op, rsp, gen.ParseRevokeSignInTokenResponse, testClock(nil).now())
			}
			var ce *ClerkErrors
			var ae *APIError
			switch {
			case err == nil:
				if tok == nil || tok.ID == "" || status != http.StatusOK {
					t.Fatalf("%s: success without a token for status %d", op, status)
				}
			case errors.As(err, &ce):
				if ce.StatusCode != status {
					t.Fatalf("%s: ClerkErrors status %d, want %d", op, ce.StatusCode, status)
				}
			case errors.As(err, &ae):
				if ae.StatusCode != status {
					t.Fatalf("%s: APIError status %d, want %d", op, ae.StatusCode, status)
				}
			default:
				t.Fatalf("%s: untyped error %T: %v", op, err, err)
			}
		}
	})
}
