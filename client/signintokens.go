package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/clerkgo/signintokens/gen"
)

// SignInTokensService creates and revokes sign-in tokens. Get one from
// Client.SignInTokens.
type SignInTokensService struct {
	c      *caller
	create operation[CreateSignInTokenRequest, gen.SignInToken]
	revoke operation[string, gen.SignInToken]
}

func newSignInTokensService(c *caller) *SignInTokensService {
	return &SignInTokensService{
		c:      c,
		create: newOperation[gen.CreateSignInTokenResponse](checkCreate, gen.BuildCreateSignInTokenRequest, hasID, false),
		revoke: newOperation[gen.RevokeSignInTokenResponse](checkRevoke, gen.BuildRevokeSignInTokenRequest, hasID, true),
	}
}

// hasID rejects a sign-in token without an ID: it cannot be revoked or
// told apart from another.
func hasID(t *gen.SignInToken) error {
	if t.ID == "" {
		return errors.New("sign-in token without an id")
	}
	return nil
}

// Create creates a sign-in token for req.UserID.
//
// A create is retried only when the server provably did not process it (a
// 429, or a connection that was never made): every create that succeeds is a
// live credential, and one sent twice could make two.
func (s *SignInTokensService) Create(ctx context.Context, req CreateSignInTokenRequest) (*CreateSignInTokenResponse, error) {
	// The response, its token and its kept request are one allocation.
	r := new(struct {
		res CreateSignInTokenResponse
		tok gen.SignInToken
		req http.Request
	})
	rsp, err := call(ctx, s.c, &s.create, req, &r.tok, &r.req)
	if err != nil {
		return nil, err
	}
	r.res = CreateSignInTokenResponse{rsp.StatusCode, headerValue(rsp.Header, "Content-Type"), rsp, (*SignInToken)(&r.tok)}
	return &r.res, nil
}

// Revoke revokes the pending sign-in token with the given ID.
//
// A revoke is retried on 429, 502, 503, 504 and transport errors. If an
// earlier attempt succeeded but its answer was lost, the retry answers 400
// with code sign_in_token_cannot_be_revoked_code: the token is revoked.
func (s *SignInTokensService) Revoke(ctx context.Context, signInTokenID string) (*RevokeSignInTokenResponse, error) {
	r := new(struct {
		res RevokeSignInTokenResponse
		tok gen.SignInToken
		req http.Request
	})
	rsp, err := call(ctx, s.c, &s.revoke, signInTokenID, &r.tok, &r.req)
	if err != nil {
		return nil, err
	}
	r.res = RevokeSignInTokenResponse{rsp.StatusCode, headerValue(rsp.Header, "Content-Type"), rsp, (*SignInToken)(&r.tok)}
	return &r.res, nil
}
