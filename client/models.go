package client

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/clerkgo/signintokens/gen"
)

// CreateSignInTokenRequest is the body of a Create, the generated model
// gen.CreateSignInTokenJSONRequestBody: UserID (user_id) is required; OrgID
// (org_id) and ExpiresInSeconds (expires_in_seconds) are optional, and nil
// leaves them to the server (no organization; 30 days).
type CreateSignInTokenRequest = gen.CreateSignInTokenJSONRequestBody

// CreateSignInTokenResponse is the answer to a successful Create.
type CreateSignInTokenResponse struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"status_code"`
	// ContentType is the answer's Content-Type header.
	ContentType string `json:"content_type"`
	// RawResponse is the HTTP response; its body was already read and
	// closed. Its Request is a copy of the request sent, without the
	// Authorization header; the copy's Header is shared, read-only.
	RawResponse *http.Response `json:"-"`
	// SignInToken is the token Clerk made; never nil. Its URL may be nil:
	// the document lets Clerk leave it out.
	SignInToken *SignInToken `json:"sign_in_token"`
}

// RevokeSignInTokenResponse is the answer to a successful Revoke.
type RevokeSignInTokenResponse struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"status_code"`
	// ContentType is the answer's Content-Type header.
	ContentType string `json:"content_type"`
	// RawResponse is the HTTP response; its body was already read and
	// closed. Its Request is a copy of the request sent, without the
	// Authorization header; the copy's Header is shared, read-only.
	RawResponse *http.Response `json:"-"`
	// SignInToken is the revoked token; never nil.
	SignInToken *SignInToken `json:"sign_in_token"`
}

// LogValue is what log/slog records: the response with its token redacted.
func (r CreateSignInTokenResponse) LogValue() slog.Value {
	return responseLogValue(r.StatusCode, r.ContentType, r.SignInToken)
}

// LogValue is what log/slog records: the response with its token redacted.
func (r RevokeSignInTokenResponse) LogValue() slog.Value {
	return responseLogValue(r.StatusCode, r.ContentType, r.SignInToken)
}

func responseLogValue(status int, contentType string, tok *SignInToken) slog.Value {
	attrs := []slog.Attr{slog.Int("status_code", status), slog.String("content_type", contentType)}
	if tok != nil {
		attrs = append(attrs, slog.Any("sign_in_token", tok.LogValue()))
	}
	return slog.GroupValue(attrs...)
}

// SignInToken is a token with which one user can sign in once: the
// generated model gen.SignInToken, with the fields Object, ID, Status,
// UserID, Token (the JWT, on create), URL (the sign-in link), CreatedAt and
// UpdatedAt (Unix milliseconds). Printing it, with fmt or log/slog, shows
// Token and the query of URL redacted; the fields keep their values, and
// json.Marshal writes them all.
type SignInToken gen.SignInToken

// SignInTokenStatus is the state of a sign-in token.
type SignInTokenStatus = gen.SignInTokenStatus

// The states of a sign-in token.
const (
	SignInTokenStatusPending  = gen.SignInTokenStatusPending
	SignInTokenStatusAccepted = gen.SignInTokenStatusAccepted
	SignInTokenStatusRevoked  = gen.SignInTokenStatusRevoked
)

// Created returns CreatedAt, which Clerk sends in Unix milliseconds, as a
// time.
func (t SignInToken) Created() time.Time { return time.UnixMilli(t.CreatedAt) }

// Updated returns UpdatedAt, which Clerk sends in Unix milliseconds, as a
// time.
func (t SignInToken) Updated() time.Time { return time.UnixMilli(t.UpdatedAt) }

const redacted = "[redacted]"

// String returns the token with Token and the query of URL redacted.
func (t SignInToken) String() string {
	return fmt.Sprintf("{Object:%s ID:%s Status:%s UserID:%s Token:%s URL:%s CreatedAt:%d UpdatedAt:%d}",
		t.Object, t.ID, t.Status, t.UserID, redactToken(t.Token), redactURL(t.URL), t.CreatedAt, t.UpdatedAt)
}

// GoString is String for %#v.
func (t SignInToken) GoString() string { return "client.SignInToken" + t.String() }

// LogValue is what log/slog records: the token with Token and the query of
// URL redacted.
func (t SignInToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("object", string(t.Object)),
		slog.String("id", t.ID),
		slog.String("status", string(t.Status)),
		slog.String("user_id", t.UserID),
		slog.String("token", redactToken(t.Token)),
		slog.String("url", redactURL(t.URL)),
		slog.Int64("created_at", t.CreatedAt),
		slog.Int64("updated_at", t.UpdatedAt),
	)
}

func redactToken(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return redacted
}

// redactURL keeps a sign-in URL's scheme, host and path, which say where it
// leads, and hides its query and fragment, which carry the ticket.
func redactURL(p *string) string {
	if p == nil {
		return "<nil>"
	}
	u, err := url.Parse(*p)
	if err != nil || u.Opaque != "" || u.User != nil {
		return redacted
	}
	hasQuery, hasFragment := u.RawQuery != "" || u.ForceQuery, u.Fragment != ""
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	s := u.String()
	if hasQuery {
		s += "?" + redacted
	}
	if hasFragment {
		s += "#" + redacted
	}
	return s
}
