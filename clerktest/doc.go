// Package clerktest is a fake Clerk Backend API for testing code that creates
// and revokes sign-in tokens, without Clerk and without a network.
//
// The fake implements the server interface generated from the same
// openapi.yaml as the client, validates every request against that document,
// and keeps users and tokens in memory. It answers as Clerk does: 404
// resource_not_found for an unknown user or token, 422 form_param_missing for
// a missing user_id, 400 sign_in_token_cannot_be_revoked_code for a token
// that is not pending, 401 for a missing or wrong key, and a clerk_trace_id
// on every error.
//
//	func TestInvite(t *testing.T) {
//		srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"))
//		c := srv.Client()
//		res, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_1"})
//		...
//		tok, _ := srv.Token(res.SignInToken.ID) // what the fake holds
//	}
//
// FailNext scripts faults (a status, headers, a body, a delay, a dropped
// connection) for the next requests, and SetRateLimit answers 429 with
// Retry-After past a number of requests per window. New returns the same
// fake as an http.Handler, to serve it any other way.
package clerktest
