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
// The client builds its requests with the builders generated from
// openapi.yaml (package gen). It checks inputs before sending, so that an
// empty user ID, an ID with whitespace or a token ID such as ".." is an
// error matching ErrInvalidRequest and nothing is sent. It maps every answer
// to a response or a typed error: *ClerkErrors for an error status the
// OpenAPI document gives the operation with Clerk's JSON error body,
// *APIError for everything else, each with the status code. New reads
// CLERK_SECRET_KEY and CLERK_API_URL unless options say otherwise.
//
// # Retries and timeouts
//
// Each attempt is bounded by WithTimeout (10 s by default); the caller's
// context bounds the whole call. Retries follow a RetryPolicy (by default 2
// retries with jittered waits from 500 ms doubling up to 8 s), and which
// answers are retried depends on the operation:
//
//   - Create is retried only on 429 and when it provably was not sent: no
//     byte of its body was read by the transport, whatever the error. A
//     create that succeeded is a live credential, and Clerk has no
//     idempotency key: after a 5xx, a timeout or a connection lost once the
//     body left, a second create could make a second token, so the error is
//     returned instead, matching ErrMaybeCreated. The body cannot be rewound,
//     so no transport resends it either (Go's HTTP/2 transport would, after a
//     stream reset).
//   - Revoke is retried on 429, 502, 503, 504 and transport errors. If a lost
//     answer hid a successful revoke, the retry answers 400
//     sign_in_token_cannot_be_revoked_code; the token is revoked all the same.
//
// A Retry-After header (seconds or an HTTP date) is honoured up to the
// policy's MaxRetryAfter; a longer one ends the call with an *APIError whose
// RetryAfter says how long to wait; so does a wait that cannot end before
// the caller's deadline, which is not begun. Other 4xx answers, a cancelled
// or expired context and TLS verification failures are never retried.
//
// # Rate limits
//
// Clerk allows 100 requests per 10 s on development instances and 1,000 per
// 10 s in production, and answers 429 with Retry-After past that. Every 429
// pauses every call of the Client until its Retry-After, retried or not, so
// that concurrent calls wait once, together, instead of each meeting the
// limit on its own; a call whose deadline ends before the pause fails at
// once.
// WithRateLimit spaces all attempts of a Client, retries included.
//
// # Secrets
//
// The secret key is sent only in the Authorization header. No redirect is
// ever followed, with the default HTTP client or an *http.Client given to
// WithHTTPClient (the SDK uses a copy of it that refuses redirects): Go's
// client would keep the header on a redirect to another port, to plain http
// or to a subdomain. A 3XX is an *APIError, whatever its Location. A doer
// that is not an *http.Client cannot be stopped from following a redirect;
// its answer to a request with another method is rejected. The doer's
// request is left as it was; the request kept in RawResponse is a copy
// without the Authorization header. Neither the key nor a token nor a
// sign-in URL's ticket appears in an error, a log record or a printed
// Client, response or SignInToken; text from outside has the key replaced
// and is escaped to one printable line.
package client
