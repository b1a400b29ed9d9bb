// Package clerktest is a fake Clerk Backend API for testing code that creates
// and revokes sign-in tokens, without Clerk and without a network.
//
// The fake implements the server interface generated from the same
// openapi.yaml as the client, validates every request against that document,
// and keeps users and tokens in memory. It answers as Clerk does, with
// Clerk's codes, wording and meta.param_name: 404 resource_not_found for an
// unknown user, token, route or method; 422 form_param_missing for a missing
// user_id, form_param_unknown for a field the API does not have and
// form_param_value_invalid for a bad value; 400
// sign_in_token_cannot_be_revoked_code for a token that is not pending; 401
// authorization_header_format_invalid for a missing or malformed Authorization
// header and clerk_key_invalid for a key it does not know; and a clerk_trace_id on
// every error. created_at and updated_at are Unix milliseconds, as Clerk
// sends them. It never redirects, rejects a body that is not valid JSON
// (trailing data included; 400 request_body_invalid) and answers 413 for a
// body over MaxBodyBytes rather than reading part of it.
//
//	func TestInvite(t *testing.T) {
//		srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"))
//		c := srv.Client()
//		res, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_1"})
//		...
//		tok, _ := srv.SignInToken(res.SignInToken.ID) // what the fake holds
//	}
//
// FailNext scripts faults (a status, headers, a body, a delay, a dropped
// connection) for the next requests. AnswerLost is the one every caller of
// Create must handle: the token is made and its answer lost, so the
// client's error matches client.ErrMaybeCreated while SignInTokens lists
// the token:
//
//	srv.FailNext(1, clerktest.AnswerLost(0)) // or AnswerLost(502), AnswerLost(504)
//
// SetRateLimit answers 429 with
// Retry-After past a number of requests per window. Requests returns the
// latest requests (DefaultRequestLimit of them, see WithRequestLimit), each
// with the start of its body; WithLog writes a line per request. New returns
// the same fake as an http.Handler, to serve it any other way.
//
// The fake is held to Clerk from outside: the repository's contract tests
// drive it with Clerk's own SDKs (clerk-sdk-go and @clerk/backend), and a live
// check compares its answers with a real Clerk development instance's.
package clerktest
