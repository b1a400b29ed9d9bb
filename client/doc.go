// Package client is a Go client for the sign-in token endpoints of Clerk's
// Backend API: create a token with which a user signs in once, and revoke it.
//
//	c, err := client.New(client.WithSecretKey("sk_test_..."))
//	if err != nil { ... }
//	res, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_123"})
//	var ce *client.ClerkErrors
//	switch {
//	case errors.As(err, &ce):
//		// Clerk answered with an error it documents, e.g. 404 resource_not_found.
//	case err != nil:
//		// *APIError, ErrInvalidRequest, or a transport error.
//	default:
//		fmt.Println(res.SignInToken.ID)
//	}
//
// Inputs are checked before sending, against what openapi.yaml says of them
// (package gen): a bad one is an error matching ErrInvalidRequest, and
// nothing is sent. Every answer is a response or a typed error with its
// status code: *ClerkErrors for an error status the document gives the
// operation, with Clerk's JSON error body; *APIError for everything else.
//
// # Retries and timeouts
//
// Each attempt is bounded by WithTimeout (10 s by default); the caller's
// context bounds the whole call. Retries follow a RetryPolicy; which answers
// are retried depends on the operation. Create is sent again only on 429,
// when it provably was not sent (no byte of its body was read), and when
// the server said it did not process it (over HTTP/2, through Go's own
// transport: a stream refused with REFUSED_STREAM, or above a graceful
// GOAWAY's last stream): a create that succeeded is a live credential, and
// Clerk has no idempotency key.
// Any other failure after its body left matches ErrMaybeCreated. Revoke is
// retried on 429, 502, 503, 504 and transport errors. A Retry-After is
// honoured up to the policy's MaxRetryAfter; a longer one, or a wait that
// would outlast the caller's deadline, ends the call with the *APIError.
//
// # Rate limits
//
// Clerk allows 100 requests per 10 s on development instances and 1,000 in
// production, per key. Every 429 pauses every call of the Client until its
// Retry-After. WithRateLimit spaces the attempts of one Client; WithLimiter
// shares a limit between processes (package redislimit).
//
// # Secrets
//
// The secret key is sent only in the Authorization header, and no redirect
// is followed: a 3XX is an *APIError. Neither the key nor a token nor a
// sign-in URL's ticket appears in an error, a log record or a printed
// Client, response or SignInToken; the request a response keeps has no
// Authorization header; text from outside has the key replaced and is one
// printable line.
package client
