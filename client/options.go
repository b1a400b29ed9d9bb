package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/clerkgo/signintokens"
)

// Version is the version of this SDK. It is sent in the User-Agent header.
const Version = "0.1.0"

// DefaultServerURL is the base URL of Clerk's Backend API.
const DefaultServerURL = "https://api.clerk.com" + apiVersionPath

// apiVersionPath is the path of the API's version under an origin.
const apiVersionPath = "/v1"

// DefaultTimeout bounds each attempt unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// DefaultMaxIdleConnsPerHost is how many idle connections the default HTTP
// client keeps to the server: as many as the calls a program typically runs
// at once, so that they reuse connections instead of dialing (and, against
// Clerk, shaking hands over TLS) again. Go's default transport keeps 2.
const DefaultMaxIdleConnsPerHost = 64

type config struct {
	secretKey    string
	serverURL    string
	httpClient   HTTPDoer
	retry        RetryPolicy
	timeout      time.Duration
	userAgent    string
	logger       *slog.Logger
	insecureHTTP bool
	rateLimit    float64
	rateBurst    int
	limiter      Limiter
	sendHook     func(*http.Request) error
	attemptHook  func(context.Context, Attempt)
	clock        clock
}

// New returns a Client configured by opts. It fails when there is no secret
// key (neither WithSecretKey nor CLERK_SECRET_KEY) or the server URL
// (WithServerURL, else CLERK_API_URL, else DefaultServerURL) is not usable;
// the error never holds the key.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		secretKey: os.Getenv("CLERK_SECRET_KEY"),
		serverURL: cmp.Or(os.Getenv("CLERK_API_URL"), DefaultServerURL),
		retry:     DefaultRetryPolicy(),
		timeout:   DefaultTimeout,
		clock: clock{
			now:    time.Now,
			sleep:  sleep,
			jitter: func(d time.Duration) time.Duration { return rand.N(d + 1) },
		},
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	c, err := cfg.client()
	if err != nil {
		return nil, err
	}
	c.addServices()
	return c, nil
}

// client checks the configuration and turns it into the Client's own.
func (cfg *config) client() (*Client, error) {
	switch {
	case cfg.secretKey == "":
		return nil, errors.New("clerk: no secret key: use WithSecretKey or set CLERK_SECRET_KEY")
	case strings.ContainsFunc(cfg.secretKey, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return nil, errors.New("clerk: the secret key holds whitespace or control characters")
	case strings.HasPrefix(cfg.secretKey, "pk_"):
		// A publishable key is public; the Backend API refuses it. The
		// key itself is not in the error, as for a secret key.
		return nil, invalid("secret key", "is a publishable key (pk_...): give the instance's secret key (sk_test_... or sk_live_...)")
	case cfg.timeout < 0:
		return nil, errors.New("clerk: the timeout must not be negative")
	case cfg.retry.MaxRetries < 0:
		return nil, errors.New("clerk: the retry policy's MaxRetries must not be negative")
	case !validRate(cfg.rateLimit, cfg.rateBurst):
		return nil, errors.New("clerk: the rate limit needs a finite positive rate and a burst of at least 1 (or 0 and 0 for none)")
	case isNil(cfg.httpClient):
		return nil, errors.New("clerk: WithHTTPClient was given a nil HTTP client")
	case strings.ContainsFunc(cfg.userAgent, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return nil, errors.New("clerk: the User-Agent product holds control characters")
	}
	server, err := checkServerURL(cfg.serverURL, cfg.insecureHTTP)
	if err != nil {
		return nil, err
	}
	limiter, err := cfg.limiterOf()
	if err != nil {
		return nil, err
	}
	doer := cfg.httpClient
	if doer == nil {
		doer = NewHTTPClient(DefaultMaxIdleConnsPerHost)
	}
	userAgent := fmt.Sprintf("signintokens-go/%s (%s)", Version, runtime.Version())
	if ua := strings.TrimSpace(cfg.userAgent); ua != "" {
		userAgent += " " + ua
	}
	doer = noRedirects(doer)
	return &Client{
		server:      server.String() + "/",
		basePath:    server.EscapedPath(),
		doer:        doer,
		transport:   passOver(doer),
		setHeaders:  headerSetter(cfg.secretKey, signintokens.APIVersion, userAgent),
		kept:        newKeptHeaders(signintokens.APIVersion, userAgent),
		goDoer:      isGoDoer(doer),
		redact:      keyRedactor(cfg.secretKey),
		policy:      cfg.retry,
		timeout:     cfg.timeout,
		limiter:     limiter,
		logger:      cfg.logger,
		sendHook:    cfg.sendHook,
		attemptHook: cfg.attemptHook,
		clock:       cfg.clock,
	}, nil
}

// limiterOf is the client's limiter: the one given (WithLimiter), or its
// own (WithRateLimit, or none but for 429s' pauses).
func (cfg *config) limiterOf() (Limiter, error) {
	switch {
	case cfg.limiter != nil && cfg.rateLimit > 0:
		return nil, errors.New("clerk: give WithLimiter or WithRateLimit, not both")
	case cfg.limiter != nil:
		return cfg.limiter, nil
	}
	local := &localLimiter{clock: cfg.clock}
	if cfg.rateLimit > 0 {
		local.limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
	}
	return local, nil
}

// NewHTTPClient returns the HTTP client New uses when WithHTTPClient is not
// given, for a doer of one's own to wrap: an *http.Client over a clone of
// Go's default transport (its proxy, timeouts and HTTP/2 kept) that keeps
// maxIdlePerHost idle connections to a host (DefaultMaxIdleConnsPerHost
// when 0 or less), and that never follows a redirect: a 3XX is the answer,
// its Location dropped.
func NewHTTPClient(maxIdlePerHost int) *http.Client {
	if maxIdlePerHost <= 0 {
		maxIdlePerHost = DefaultMaxIdleConnsPerHost
	}
	hc := &http.Client{}
	if tr, ok := http.DefaultTransport.(*http.Transport); ok {
		tr = tr.Clone()
		tr.MaxIdleConnsPerHost = maxIdlePerHost
		tr.MaxIdleConns = max(tr.MaxIdleConns, maxIdlePerHost)
		hc.Transport = tr
	}
	return noRedirects(hc).(*http.Client)
}

// checkServerURL checks a base URL and returns it without a trailing slash.
// Operations' paths are appended to it, not resolved against it, so it must
// not have "." or ".." segments.
func checkServerURL(s string, insecureHTTP bool) (*url.URL, error) {
	const field = "server URL"
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, invalid(field, "is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, invalid(field, "must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return nil, invalid(field, "must have a host")
	case u.User != nil:
		return nil, invalid(field, "must not hold user information")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, invalid(field, "must not have a query")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, invalid(field, "must not have a fragment")
	case slices.ContainsFunc(strings.Split(u.Path, "/"), func(seg string) bool { return seg == "." || seg == ".." }):
		return nil, invalid(field, `must not have "." or ".." path segments`)
	case u.Scheme == "http" && !insecureHTTP && !isLoopback(u.Hostname()):
		return nil, invalid(field, "must use https unless the host is a loopback address (see WithInsecureHTTP)")
	}
	if u.Path == "" || u.Path == "/" {
		// An origin, as Clerk's Node SDK takes CLERK_API_URL: the API is
		// under its version path.
		u.Path, u.RawPath = apiVersionPath, ""
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// isGoDoer reports whether a doer is an *http.Client over Go's own
// transport, the SDK's noLocation over it included (NewHTTPClient's): one
// known to end a response body's Read when the request's context ends, and
// whose errors are Go's own.
func isGoDoer(doer HTTPDoer) bool {
	hc, ok := doer.(*http.Client)
	return ok && goTransport(hc.Transport)
}

// goTransport reports whether rt is Go's own transport (nil is
// http.DefaultTransport), or the SDK's noLocation over it.
func goTransport(rt http.RoundTripper) bool {
	if nl, ok := rt.(noLocation); ok {
		rt = nl.next
	}
	switch rt.(type) {
	case nil, *http.Transport:
		return true
	}
	return false
}

// validRate reports whether WithRateLimit's values are a limit (a finite
// positive rate, a burst of at least 1) or none (0 and 0). NaN compares
// false with everything, so it is refused by what it is not.
func validRate(perSecond float64, burst int) bool {
	if perSecond == 0 && burst == 0 {
		return true
	}
	return perSecond > 0 && !math.IsInf(perSecond, 1) && burst >= 1
}

// isNil reports whether a doer given to WithHTTPClient is a nil pointer
// (or map, func, chan) in an interface: calling it would panic. A nil
// interface means the default client.
func isNil(doer HTTPDoer) bool {
	if doer == nil {
		return false
	}
	switch v := reflect.ValueOf(doer); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Interface, reflect.Slice:
		return v.IsNil()
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// An Option configures a Client in New.
type Option func(*config)

// WithSecretKey sets the instance's secret key (sk_test_... or sk_live_...);
// New refuses a publishable key (pk_...). Default: the CLERK_SECRET_KEY
// environment variable.
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
// transport. Without a Jar or a Timeout, which its Do applies, requests go
// to that transport directly, failing with the errors Do makes (a
// *url.Error). Another doer is used as it is: the SDK cannot stop it from
// following a redirect, and takes its answer as the answer unless it names a
// request with another method. Over anything but Go's own transport (another
// doer, or an *http.Client over a RoundTripper of one's own), a response
// body being read is closed when the attempt's context ends (its deadline,
// or the caller's context ending), in case the body ignores that context.
// New refuses a nil *http.Client.
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

// WithTimeout bounds each attempt, from sending the request (after the
// send hook, if any) to reading the whole answer; 0 means no bound. The caller's context bounds the whole
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
// package redislimit). New refuses a rate that is not a finite positive
// number, or a burst under 1; WithRateLimit(0, 0) is no limit. Default: no
// limit.
func WithRateLimit(requestsPerSecond float64, burst int) Option {
	return func(c *config) { c.rateLimit, c.rateBurst = requestsPerSecond, burst }
}

// WithLimiter makes every attempt of the client wait on l, and tells l of
// every 429's pause, instead of the client's own limiter. WithRateLimit
// must not be given too. Default: the client's own (see WithRateLimit),
// which has no rate limit but pauses for 429s.
func WithLimiter(l Limiter) Option {
	return func(c *config) { c.limiter = l }
}

// WithSendHook calls hook just before each attempt's request goes to the
// HTTP doer, after any wait for the limiter: a program that records what
// it sends (a journal of creates) writes its record there, finding the
// call in the request's context, which is the call's. The time the hook
// takes does not count against WithTimeout: the attempt's timeout starts
// when it returns. hook must not change the request. An error from it ends the call with
// nothing sent, and the call returns it. Default: none.
func WithSendHook(hook func(*http.Request) error) Option {
	return func(c *config) { c.sendHook = hook }
}

// WithAttemptHook calls hook after each attempt of a call, with what it
// came to: its status or its error, and whether and when the call tries
// again. A program shows retries with it (a bulk run's progress), counts
// 429s, or exports metrics, without reading log records. It runs on the
// call's goroutine, so it should return quickly. Default: none.
func WithAttemptHook(hook func(ctx context.Context, a Attempt)) Option {
	return func(c *config) { c.attemptHook = hook }
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
