package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/clerkgo/signintokens"
	"github.com/clerkgo/signintokens/gen"
	"golang.org/x/time/rate"
)

// DefaultServerURL is the base URL of Clerk's Backend API.
const DefaultServerURL = "https://api.clerk.com/v1"

// DefaultTimeout bounds each attempt unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// A Client talks to Clerk's Backend API. It is immutable after New and safe
// for concurrent use. Printing it never shows the secret key.
type Client struct {
	// SignInTokens creates and revokes sign-in tokens.
	SignInTokens *SignInTokensService
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
	clock        clock
}

// New returns a Client configured by opts. It fails when there is no secret
// key (neither WithSecretKey nor CLERK_SECRET_KEY) or the server URL is not
// usable; the error never holds the key.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		secretKey: os.Getenv("CLERK_SECRET_KEY"),
		serverURL: DefaultServerURL,
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
	if cfg.secretKey == "" {
		return nil, errors.New("clerk: no secret key: use WithSecretKey or set CLERK_SECRET_KEY")
	}
	if strings.ContainsFunc(cfg.secretKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("clerk: the secret key holds whitespace or control characters")
	}
	server, err := checkServerURL(cfg.serverURL, cfg.insecureHTTP)
	if err != nil {
		return nil, err
	}
	if cfg.httpClient == nil {
		cfg.httpClient = &http.Client{CheckRedirect: sameHostRedirects}
	}
	if cfg.timeout < 0 {
		return nil, errors.New("clerk: the timeout must not be negative")
	}
	if cfg.retry.MaxRetries < 0 {
		return nil, errors.New("clerk: the retry policy's MaxRetries must not be negative")
	}
	th := &throttle{}
	switch {
	case cfg.rateLimit < 0 || cfg.rateBurst < 0 || (cfg.rateLimit > 0 && cfg.rateBurst == 0):
		return nil, errors.New("clerk: the rate limit needs a positive rate and a burst of at least 1")
	case cfg.rateLimit > 0:
		th.limiter = rate.NewLimiter(rate.Limit(cfg.rateLimit), cfg.rateBurst)
	}

	auth := "Bearer " + cfg.secretKey
	userAgent := fmt.Sprintf("signintokens-go/%s (%s)", Version, runtime.Version())
	if ua := strings.TrimSpace(cfg.userAgent); ua != "" {
		userAgent += " " + ua
	}
	// The headers are set on the request, not in a transport, so that Go's
	// client drops Authorization on a redirect to another host even when the
	// caller brings an http.Client of their own. The keys are already in
	// canonical form, and the values share one allocation per request.
	headers := func(_ context.Context, req *http.Request) error {
		v := []string{auth, "application/json", signintokens.APIVersion, userAgent}
		req.Header["Authorization"] = v[0:1:1]
		req.Header["Accept"] = v[1:2:2]
		req.Header["Clerk-Api-Version"] = v[2:3:3]
		req.Header["User-Agent"] = v[3:4:4]
		return nil
	}
	// Creates and revokes are retried differently, so each has its own
	// generated client over its own sender.
	generated := func(idempotent bool) (*gen.Client, error) {
		return gen.NewClient(server,
			gen.WithHTTPClient(&sender{
				idempotent: idempotent,
				throttle:   th,
				next:       cfg.httpClient,
				policy:     cfg.retry,
				timeout:    cfg.timeout,
				logger:     cfg.logger,
				clock:      cfg.clock,
			}),
			gen.WithRequestEditorFn(headers),
		)
	}
	creates, err := generated(false)
	if err != nil {
		return nil, fmt.Errorf("clerk: %w", err)
	}
	revokes, err := generated(true)
	if err != nil {
		return nil, fmt.Errorf("clerk: %w", err)
	}
	return &Client{SignInTokens: &SignInTokensService{creates: creates, revokes: revokes, now: cfg.clock.now}}, nil
}

// checkServerURL checks a base URL. The generated client adds the trailing
// slash that keeps the URL's path when an operation's path is added.
func checkServerURL(s string, insecureHTTP bool) (string, error) {
	const field = "server URL"
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", invalid(field, "is not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return "", invalid(field, "must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return "", invalid(field, "must have a host")
	case u.User != nil:
		return "", invalid(field, "must not hold user information")
	case u.RawQuery != "" || u.ForceQuery:
		return "", invalid(field, "must not have a query")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", invalid(field, "must not have a fragment")
	case u.Scheme == "http" && !insecureHTTP && !isLoopback(u.Hostname()):
		return "", invalid(field, "must use https unless the host is a loopback address (see WithInsecureHTTP)")
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
