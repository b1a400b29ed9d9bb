package client

import (
	"context"
	"log/slog"
	"net/http"

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
	return respond(ctx, s.c, &s.create, p, err, req.UserID, (*SignInTokenResponse).fill)
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
	return respond(ctx, s.c, &s.revoke, p, err, signInTokenID, (*SignInTokenResponse).fill)
}

// forUser rejects a create's answer that is not a sign-in token with an ID
// for userID: handing it over would sign the wrong person in. The status
// is not checked: Clerk does not document which one each answer carries.
func forUser(t *gen.SignInToken, userID string) error {
	return answerIs("sign-in token", t.Object == gen.SignInTokenObjectSignInToken, t.ID, t.UserID == userID, "for another user")
}

// isToken rejects a revoke's answer that is not the sign-in token id.
func isToken(t *gen.SignInToken, id string) error {
	return answerIs("sign-in token", t.Object == gen.SignInTokenObjectSignInToken, t.ID, t.ID == id, "another token")
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
	return logResponse(r.StatusCode, r.ContentType, "sign_in_token", r.SignInToken)
}

// fill makes r the response of an answer (see respond).
func (r *SignInTokenResponse) fill(rsp *http.Response, tok *SignInToken) {
	*r = SignInTokenResponse{StatusCode: rsp.StatusCode, ContentType: headerValue(rsp.Header, "Content-Type"),
		RawResponse: rsp, SignInToken: tok}
}

// SignInToken is a token with which one user can sign in once: the
// generated model gen.SignInToken, with the fields Object, ID, Status,
// UserID, Token (the JWT, on create), URL (the sign-in link), CreatedAt and
// UpdatedAt (Unix milliseconds; Created and Updated return them as times).
// Printing it, with fmt or log/slog, shows Token and the query of URL
// redacted (x-secret in openapi.yaml); the fields keep their values, and
// json.Marshal writes them all.
type SignInToken = gen.SignInToken

// SignInTokenStatus is the state of a sign-in token.
type SignInTokenStatus = gen.SignInTokenStatus

// The states of a sign-in token.
const (
	SignInTokenStatusPending  = gen.SignInTokenStatusPending
	SignInTokenStatusAccepted = gen.SignInTokenStatusAccepted
	SignInTokenStatusRevoked  = gen.SignInTokenStatusRevoked
)
