package client

import (
	"log/slog"
	"time"
)

// An Option configures a Client in New.
type Option func(*config)

// WithSecretKey sets the instance's secret key (sk_test_... or sk_live_...).
// Default: the CLERK_SECRET_KEY environment variable.
func WithSecretKey(key string) Option {
	return func(c *config) { c.secretKey = key }
}

// WithServerURL sets the base URL of the Backend API: an absolute http or
// https URL with a host and no query or fragment. A URL without a path is
// an origin, and the API is at its /v1, as Clerk's Node SDK reads
// CLERK_API_URL (https://api.clerk.com means https://api.clerk.com/v1); a
// path is kept as it is, with or without a trailing slash. Plain http is
// accepted only for a loopback host unless WithInsecureHTTP is given.
// Default: the CLERK_API_URL environment variable when it is set, read the
// same way, else https://api.clerk.com/v1.
func WithServerURL(serverURL string) Option {
	return func(c *config) { c.serverURL = serverURL }
}

// WithHTTPClient sets what sends each HTTP request, such as an *http.Client.
// An *http.Client is used through a shallow copy that never follows a
// redirect (a 3XX is the answer, its Location dropped); the copy shares its
// transport. Another doer is used as it is: the SDK cannot stop it from
// following a redirect, takes its answer as the answer unless it names a
// request with another method, and closes a response body at the attempt's
// deadline in case it ignores its context. New refuses a nil *http.Client.
// Default: an http.Client that never follows a redirect, over a clone of
// Go's default transport that keeps DefaultMaxIdleConnsPerHost idle
// connections.
func WithHTTPClient(doer HTTPDoer) Option {
	return func(c *config) { c.httpClient = doer }
}

// WithRetryPolicy sets how often and how long apart requests are retried.
// RetryPolicy{} turns retries off. Default: DefaultRetryPolicy().
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *config) { c.retry = p }
}

// WithTimeout bounds each attempt, from sending the request to reading the
// whole answer; 0 means no bound. The caller's context bounds the whole
// call, retries and waits included. Default: 10 seconds.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithUserAgent appends product to the User-Agent the SDK sends, such as
// "my-app/1.2"; New refuses control characters in it. Default: nothing
// appended.
func WithUserAgent(product string) Option {
	return func(c *config) { c.userAgent = product }
}

// WithLogger logs one record per attempt: method, path, status, attempt,
// wait, duration and trace id; never headers or bodies. Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithRateLimit lets at most requestsPerSecond attempts start per second,
// with bursts of up to burst, across every call of the client (retries
// included); waiting honours each call's context. Clerk allows 100 requests
// per 10 s on development instances and 1,000 per 10 s in production, per
// key: processes that share a key share the limit through WithLimiter (see
// package redislimit). Default: no limit.
func WithRateLimit(requestsPerSecond float64, burst int) Option {
	return func(c *config) { c.rateLimit, c.rateBurst = requestsPerSecond, burst }
}

// WithInsecureHTTP allows a plain http server URL on a host that is not a
// loopback address. The secret key then crosses the network unencrypted.
// Default: off.
func WithInsecureHTTP() Option {
	return func(c *config) { c.insecureHTTP = true }
}

// withClock replaces the clock used for retry waits; for tests.
func withClock(cl clock) Option {
	return func(c *config) { c.clock = cl }
}
