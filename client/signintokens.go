package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/clerkgo/signintokens/gen"
)

// SignInTokensService creates and revokes sign-in tokens. Get one from
// Client.SignInTokens.
type SignInTokensService struct {
	c              *Client
	create, revoke operation[gen.SignInToken]
}

func newSignInTokensService(c *Client) *SignInTokensService {
	return &SignInTokensService{
		c:      c,
		create: newOperation(gen.CreateSignInTokenOperation(), forUser),
		revoke: newOperation(gen.RevokeSignInTokenOperation(), isToken),
	}
}

// Create creates a sign-in token for req.UserID.
//
// An answer whose token is for another user, or is not a sign-in token, is
// an *APIError matching ErrMaybeCreated, never a success: handing it over
// would sign the wrong person in. The token's status is not checked.
//
// A create is retried only when the server provably did not process it (a
// 429, or a request of which no byte left): every create that succeeds is a
// live credential, and one sent twice could make two.
func (s *SignInTokensService) Create(ctx context.Context, req CreateSignInTokenRequest) (*CreateSignInTokenResponse, error) {
	p, err := gen.PrepareCreateSignInToken(s.c.server, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return s.send(ctx, &s.create, p, req.UserID)
}

// Revoke revokes the pending sign-in token with the given ID.
//
// An answer for another token than the one named, or that is not a
// sign-in token, is an *APIError.
//
// A revoke is retried on 429, 502, 503, 504 and transport errors. If an
// earlier attempt succeeded but its answer was lost, the retry answers 400
// with code sign_in_token_cannot_be_revoked_code: the token is revoked.
func (s *SignInTokensService) Revoke(ctx context.Context, signInTokenID string) (*RevokeSignInTokenResponse, error) {
	p, err := gen.PrepareRevokeSignInToken(s.c.server, signInTokenID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return s.send(ctx, &s.revoke, p, signInTokenID)
}

// send makes one call of op, whose answer must be for ask (see forUser and
// isToken); the response, its token and its kept request are one
// allocation.
func (s *SignInTokensService) send(ctx context.Context, op *operation[gen.SignInToken], p gen.Call, ask string) (*SignInTokenResponse, error) {
	r := new(struct {
		res SignInTokenResponse
		tok gen.SignInToken
		req http.Request
	})
	rsp, err := call(ctx, s.c, op, p, ask, &r.tok, &r.req)
	if err != nil {
		return nil, err
	}
	r.res = SignInTokenResponse{StatusCode: rsp.StatusCode, RawResponse: rsp, SignInToken: (*SignInToken)(&r.tok)}
	if ct := rsp.Header["Content-Type"]; len(ct) > 0 {
		r.res.ContentType = ct[0]
	}
	return &r.res, nil
}

// forUser rejects a create's answer that is not a usable sign-in token
// (see usable) or is for another user than userID: handing it over would
// sign the wrong person in. The status is not checked: Clerk does not
// document which one each answer carries.
func forUser(t *gen.SignInToken, userID string) error {
	if t.UserID != userID {
		return errors.New("the token is for another user than the one asked for")
	}
	return usable(t)
}

// isToken rejects a revoke's answer that is not a usable sign-in token
// (see usable) or is another token than id.
func isToken(t *gen.SignInToken, id string) error {
	if t.ID != "" && t.ID != id {
		return errors.New("the token is another than the one asked for")
	}
	return usable(t)
}

// usable rejects a sign-in token without an ID (it cannot be revoked or
// told apart from another) or another object than a sign-in token.
func usable(t *gen.SignInToken) error {
	switch {
	case t.ID == "":
		return errors.New("sign-in token without an id")
	case t.Object != gen.SignInTokenObjectSignInToken:
		return errors.New("the answer is not a sign-in token")
	}
	return nil
}

// CreateSignInTokenRequest is the body of a Create, the generated model
// gen.CreateSignInTokenJSONRequestBody: UserID (user_id) is required; OrgID
// (org_id) and ExpiresInSeconds (expires_in_seconds) are optional, and nil
// leaves them to the server (no organization; 30 days).
type CreateSignInTokenRequest = gen.CreateSignInTokenJSONRequestBody

// SignInTokenResponse is the answer to a successful Create or Revoke.
type SignInTokenResponse struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"status_code"`
	// ContentType is the answer's Content-Type header.
	ContentType string `json:"content_type"`
	// RawResponse is the HTTP response; its body was already read and
	// closed. Its Request is a copy of the request sent, without the
	// Authorization header; the copy's Header is shared, read-only.
	RawResponse *http.Response `json:"-"`
	// SignInToken is the token Clerk made or revoked; never nil. Its URL
	// may be nil: the document lets Clerk leave it out.
	SignInToken *SignInToken `json:"sign_in_token"`
}

// CreateSignInTokenResponse is the answer to a successful Create.
type CreateSignInTokenResponse = SignInTokenResponse

// RevokeSignInTokenResponse is the answer to a successful Revoke.
type RevokeSignInTokenResponse = SignInTokenResponse

// LogValue is what log/slog records: the response with its token redacted.
func (r SignInTokenResponse) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("status_code", r.StatusCode), slog.String("content_type", r.ContentType)}
	if r.SignInToken != nil {
		attrs = append(attrs, slog.Any("sign_in_token", r.SignInToken.LogValue()))
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
