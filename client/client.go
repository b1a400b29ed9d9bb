package client

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
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
)

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

// A Client talks to Clerk's Backend API. It is immutable after New and safe
// for concurrent use. Printing it never shows the secret key.
type Client struct {
	// SignInTokens creates and revokes sign-in tokens.
	SignInTokens *SignInTokensService

	doer HTTPDoer
}

// CloseIdleConnections closes the connections the client's HTTP client keeps
// open but idle, as http.Client.CloseIdleConnections does; calls in flight
// are not affected. With a doer given to WithHTTPClient that has no such
// method, it does nothing.
func (c *Client) CloseIdleConnections() {
	if ic, ok := c.doer.(interface{ CloseIdleConnections() }); ok {
		ic.CloseIdleConnections()
	}
}

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
	c, err := cfg.caller()
	if err != nil {
		return nil, err
	}
	return &Client{SignInTokens: newSignInTokensService(c), doer: c.doer}, nil
}

// caller checks the configuration and turns it into the caller that runs
// every call of the Client.
func (cfg *config) caller() (*caller, error) {
	switch {
	case cfg.secretKey == "":
		return nil, errors.New("clerk: no secret key: use WithSecretKey or set CLERK_SECRET_KEY")
	case strings.ContainsFunc(cfg.secretKey, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return nil, errors.New("clerk: the secret key holds whitespace or control characters")
	case cfg.timeout < 0:
		return nil, errors.New("clerk: the timeout must not be negative")
	case cfg.retry.MaxRetries < 0:
		return nil, errors.New("clerk: the retry policy's MaxRetries must not be negative")
	case cfg.rateLimit < 0 || cfg.rateBurst < 0 || (cfg.rateLimit > 0 && cfg.rateBurst == 0):
		return nil, errors.New("clerk: the rate limit needs a positive rate and a burst of at least 1")
	case isNil(cfg.httpClient):
		return nil, errors.New("clerk: WithHTTPClient was given a nil HTTP client")
	case strings.ContainsFunc(cfg.userAgent, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return nil, errors.New("clerk: the User-Agent product holds control characters")
	}
	server, err := checkServerURL(cfg.serverURL, cfg.insecureHTTP)
	if err != nil {
		return nil, err
	}
	limiter := cfg.limiter
	switch {
	case limiter != nil && cfg.rateLimit > 0:
		return nil, errors.New("clerk: give WithLimiter or WithRateLimit, not both")
	case limiter == nil:
		local := &localLimiter{clock: cfg.clock}
		if cfg.rateLimit > 0 {
			local.limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
		}
		limiter = local
	}
	doer := cfg.httpClient
	if doer == nil {
		doer = defaultHTTPClient()
	}
	userAgent := fmt.Sprintf("signintokens-go/%s (%s)", Version, runtime.Version())
	if ua := strings.TrimSpace(cfg.userAgent); ua != "" {
		userAgent += " " + ua
	}
	return &caller{
		server:      server.String() + "/",
		basePath:    server.EscapedPath(),
		doer:        noRedirects(doer),
		setHeaders:  headerSetter(cfg.secretKey, userAgent),
		kept:        newKeptHeaders(userAgent),
		watchBodies: !endsBodiesAtDeadline(doer),
		redact:      keyRedactor(cfg.secretKey),
		policy:      cfg.retry,
		timeout:     cfg.timeout,
		limiter:     limiter,
		logger:      cfg.logger,
		clock:       cfg.clock,
	}, nil
}

// defaultHTTPClient is a client over a clone of Go's default transport (its
// proxy, timeouts and HTTP/2 kept) that keeps DefaultMaxIdleConnsPerHost
// idle connections.
func defaultHTTPClient() *http.Client {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{}
	}
	tr = tr.Clone()
	tr.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, DefaultMaxIdleConnsPerHost)
	return &http.Client{Transport: tr}
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

// endsBodiesAtDeadline reports whether a doer is known to end a response
// body's Read when the request's context ends: an *http.Client over Go's
// own transport.
func endsBodiesAtDeadline(doer HTTPDoer) bool {
	hc, ok := doer.(*http.Client)
	if !ok {
		return false
	}
	switch hc.Transport.(type) {
	case nil, *http.Transport:
		return true
	}
	return false
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
