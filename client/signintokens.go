package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/clerkgo/signintokens/gen"
)

// SignInTokensService creates and revokes sign-in tokens. Get one from
// Client.SignInTokens.
type SignInTokensService struct {
	creates *gen.Client // never retries a create that may have been sent
	revokes *gen.Client
	now     func() time.Time
}

// CreateSignInTokenRequest is the body of a Create: UserID is required;
// OrgID and ExpiresInSeconds are optional, and nil leaves them to the
// server (no organization; 30 days).
type CreateSignInTokenRequest = gen.CreateSignInTokenJSONRequestBody

// CreateSignInTokenResponse is the answer to a successful Create.
type CreateSignInTokenResponse struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// ContentType is the answer's Content-Type header.
	ContentType string
	// RawResponse is the HTTP response; its body was already read and closed.
	RawResponse *http.Response
	// SignInToken is the token; nil when the answer holds none.
	SignInToken *SignInToken
}

// RevokeSignInTokenResponse is the answer to a successful Revoke. It has the
// same fields as CreateSignInTokenResponse.
type RevokeSignInTokenResponse CreateSignInTokenResponse

// SignInToken is a token with which one user can sign in once. It has the
// fields of the generated model. Printing it, with fmt or log/slog, shows
// Token and the query of URL redacted; the fields keep their values.
type SignInToken gen.SignInToken

// SignInTokenStatus is the state of a sign-in token.
type SignInTokenStatus = gen.SignInTokenStatus

// The states of a sign-in token.
const (
	SignInTokenStatusPending  = gen.SignInTokenStatusPending
	SignInTokenStatusAccepted = gen.SignInTokenStatusAccepted
	SignInTokenStatusRevoked  = gen.SignInTokenStatusRevoked
)

// Create creates a sign-in token for req.UserID.
//
// A create is retried only when the server provably did not process it (a
// 429, or a connection that was never made): every create that succeeds is a
// live credential, and one sent twice could make two.
func (s *SignInTokensService) Create(ctx context.Context, req CreateSignInTokenRequest) (*CreateSignInTokenResponse, error) {
	switch {
	case req.UserID == "":
		return nil, invalid("user_id", "must not be empty")
	case req.OrgID != nil && *req.OrgID == "":
		return nil, invalid("org_id", "must not be empty when set")
	case req.ExpiresInSeconds != nil && *req.ExpiresInSeconds < 1:
		return nil, invalid("expires_in_seconds", "must be at least 1")
	}
	rsp, err := s.creates.CreateSignInToken(ctx, req)
	return call[gen.CreateSignInTokenResponse]("POST /sign_in_tokens", rsp, err, s.now)
}

// Revoke revokes the pending sign-in token with the given ID.
//
// A revoke is retried on 429, 502, 503, 504 and transport errors. If an
// earlier attempt succeeded but its answer was lost, the retry answers 400
// with code sign_in_token_cannot_be_revoked_code: the token is revoked.
func (s *SignInTokensService) Revoke(ctx context.Context, signInTokenID string) (*RevokeSignInTokenResponse, error) {
	if err := checkID("sign_in_token_id", signInTokenID); err != nil {
		return nil, err
	}
	rsp, err := s.revokes.RevokeSignInToken(ctx, signInTokenID)
	op := "POST /sign_in_tokens/" + url.PathEscape(signInTokenID) + "/revoke"
	res, err := call[gen.RevokeSignInTokenResponse](op, rsp, err, s.now)
	return (*RevokeSignInTokenResponse)(res), err
}

// call turns what the generated client returned into a response or an error.
// R is the operation's generated response type (see answer).
func call[R any](op string, rsp *http.Response, err error, now func() time.Time) (*CreateSignInTokenResponse, error) {
	tok, err := answer[R](op, rsp, err, now(), hasID)
	if err != nil {
		return nil, err
	}
	return &CreateSignInTokenResponse{
		StatusCode:  rsp.StatusCode,
		ContentType: rsp.Header.Get("Content-Type"),
		RawResponse: rsp,
		SignInToken: (*SignInToken)(tok),
	}, nil
}

// checkID rejects a path parameter that cannot stand as one path segment:
// URL resolution collapses "." and "..", and "/", "?" and "#" would change
// the path even if escaped by a proxy that unescapes.
func checkID(field, id string) error {
	switch {
	case id == "":
		return invalid(field, "must not be empty")
	case id == "." || id == "..":
		return invalid(field, `must not be "." or ".."`)
	case strings.ContainsAny(id, "/?#"):
		return invalid(field, `must not contain "/", "?" or "#"`)
	case strings.ContainsFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalid(field, "must not contain whitespace or control characters")
	}
	return nil
}

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
