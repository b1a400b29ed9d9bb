package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/clerkgo/signintokens/gen"
)

// This file is the path of every call, in the order a call takes it: the
// operation, call and send, the limiter, one attempt (its request, its body
// and its answer), the retry policy, and logging. The answer is mapped in
// errors.go.

// An operation is a generated gen.Operation ready for calls whose success
// model is T: the kind of body each documented status has, and valid, which
// rejects a success body that decodes but cannot be used, or that does not
// answer the call (ask is what the call asked for, such as a user's ID).
type operation[T any] struct {
	gen.Operation
	bodies map[int]bodyKind
	valid  func(got *T, ask string) error
}

// bodyKind is the body the document gives one status of an operation.
type bodyKind int

const (
	successBody bodyKind = iota + 1 // the operation's model T
	errorsBody                      // Clerk's ClerkErrors
	unknownBody                     // a schema this package does not map
)

// newOperation reads which statuses op documents and the schema of each
// one's body: T's own (such as gen.SignInToken) is a success.
func newOperation[T any](op gen.Operation, valid func(got *T, ask string) error) operation[T] {
	bodies := map[int]bodyKind{}
	for status, schema := range op.Responses {
		switch schema {
		case reflect.TypeFor[T]().Name():
			bodies[status] = successBody
		case "ClerkErrors":
			bodies[status] = errorsBody
		default:
			bodies[status] = unknownBody
		}
	}
	return operation[T]{Operation: op, bodies: bodies, valid: valid}
}

// A Client talks to Clerk's Backend API. It is immutable after New and safe
// for concurrent use. Printing it never shows the secret key.
type Client struct {
	// SignInTokens creates and revokes sign-in tokens.
	SignInTokens *SignInTokensService

	server   string // the base URL with a trailing slash, as gen wants it
	basePath string // the base URL's path without it, cut from paths in errors
	doer     HTTPDoer
	// transport is the doer's transport when its Do is passed over (see
	// Client.do); nil when requests go through Do.
	transport http.RoundTripper
	// setHeaders sets the headers of every request (see headerSetter).
	setHeaders func(*http.Request, *[5]string)
	kept       keptHeaders
	// goDoer is set when the doer is an *http.Client over Go's own
	// transport: its bodies end at the request's deadline (see readBody),
	// and its errors say when HTTP/2 did not process a request (see
	// http2NotProcessed).
	goDoer bool
	// redact replaces the key in text from outside (see keyRedactor).
	redact  func(string) string
	policy  RetryPolicy
	timeout time.Duration
	limiter Limiter
	logger  *slog.Logger
	// sendHook runs before each attempt goes to the doer (WithSendHook).
	sendHook func(*http.Request) error
	// attemptHook is told of each attempt (WithAttemptHook).
	attemptHook func(context.Context, Attempt)
	clock       clock
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

// addServices gives c its services, one per resource of openapi.yaml.
func (c *Client) addServices() {
	c.SignInTokens = newSignInTokensService(c)
}

// respond is a resource's call: it makes one call of op with p, whose
// answer must be for ask (see operation), and returns the response that
// fill makes of the HTTP response and the model. The response, the model
// and the request the response keeps are one allocation. prepErr is the
// error of gen's Prepare function that made p: with one, nothing is sent.
func respond[M, R any](ctx context.Context, c *Client, op *operation[M], p gen.Call, prepErr error, ask string,
	fill func(*R, *http.Response, *M)) (*R, error) {
	if prepErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, prepErr)
	}
	r := new(struct {
		res R
		m   M
		req http.Request
	})
	rsp, err := call(ctx, c, op, p, ask, &r.m, &r.req)
	if err != nil {
		return nil, err
	}
	fill(&r.res, rsp, &r.m)
	return &r.res, nil
}

// answerIs is the check of a success answer (see operation) for a model
// named object: it must be one (is), have an ID, and be what was asked for
// (match); mismatch says what it is instead, such as "for another user".
func answerIs(object string, is bool, id string, match bool, mismatch string) error {
	switch {
	case !is:
		return fmt.Errorf("the answer is not a %s", object)
	case id == "":
		return fmt.Errorf("the %s has no id", object)
	case !match:
		return fmt.Errorf("the %s is %s than the one asked for", object, mismatch)
	}
	return nil
}

// logResponse is what log/slog records of a response: its status, its
// media type and, under name, its model m, printed as m's LogValue has it.
func logResponse[M slog.LogValuer](status int, contentType, name string, m *M) slog.Value {
	attrs := []slog.Attr{slog.Int("status_code", status), slog.String("content_type", contentType)}
	if m != nil {
		attrs = append(attrs, slog.Any(name, (*m).LogValue()))
	}
	return slog.GroupValue(attrs...)
}

// call sends p, a call of op whose inputs gen checked, until its answer is
// final, and maps that answer (errors.go) to the model, decoded into dst
// and checked against ask, or to a typed error. The response keeps, as its
// Request, kept: a copy of the request sent, without the key.
func call[T any](ctx context.Context, c *Client, op *operation[T], p gen.Call, ask string, dst *T, kept *http.Request) (*http.Response, error) {
	a, err := send(ctx, c, op, p)
	if a.req == nil {
		// Nothing was sent: the context ended before the first attempt,
		// the limiter or the send hook failed, or the request could not
		// be built.
		o := origin{method: op.Method, path: "/" + strings.TrimPrefix(p.URL, c.server), redact: c.redact}
		return nil, newRequestError(&o, "not sent: ", err)
	}
	if a.rsp != nil {
		a.rsp.Request = c.kept.keep(kept, a.req)
	}
	o := origin{
		method:       a.req.Method,
		sent:         a.req.URL,
		basePath:     c.basePath,
		maybeCreated: op.CreatesCredential && !a.notSent && !a.notProcessed,
		credential:   op.Credential,
		redact:       c.redact,
	}
	return a.rsp, outcome(&o, op.bodies, op.valid, &a, err, ask, dst)
}

// send sends p until an answer is final under the retry policy: each
// attempt waits for the limiter, is built and sent with its own deadline,
// and has its body read within it. It returns the last attempt's answer:
// with a response, final, and err says what ended the wait for another
// attempt if one was due; without one, err is its transport error; without
// a request, nothing was sent and err says why.
func send[T any](ctx context.Context, c *Client, op *operation[T], p gen.Call) (answer, error) {
	var a answer
	var sendErr error // the last attempt's transport error
	var wait time.Duration
	for retries := 0; ; retries++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return a, waitEnded(sendErr, err)
		}
		if err := ctx.Err(); err != nil {
			return a, waitEnded(sendErr, err)
		}
		var start time.Time // read only for the log and hook: the clock costs every call
		if c.logger != nil || c.attemptHook != nil {
			start = c.clock.now()
		}
		a, sendErr = attempt(ctx, c, &op.Operation, p)
		if a.req == nil {
			return a, sendErr
		}
		d := retryDecision{reason: "caller's context done"}
		if ctx.Err() == nil {
			d = c.policy.shouldRetry(op.Resendable, retries, &a, sendErr, c.clock.jitter)
		}
		if d.retry && !fits(ctx, d.wait) {
			d = retryDecision{reason: "the wait for another attempt would outlast the caller's deadline"}
		}
		c.pauseAfter429(ctx, &a, retries, d)
		if c.logger != nil || c.attemptHook != nil {
			c.tell(ctx, c.attempted(&a, sendErr, retries+1, wait, c.clock.now().Sub(start), d))
		}
		if !d.retry {
			return a, sendErr
		}
		wait = d.wait
		if a.rsp == nil || a.rsp.StatusCode != http.StatusTooManyRequests {
			// After a 429 the limiter holds this call back with the others.
			if err := c.clock.sleep(ctx, d.wait); err != nil {
				return a, waitEnded(sendErr, err)
			}
		}
	}
}

// waitEnded is what send returns when waiting for another attempt ended
// with err: err, after the last attempt's transport error if there was one.
func waitEnded(sendErr, err error) error {
	if sendErr == nil {
		return err
	}
	return fmt.Errorf("%w; then waiting to try again: %w", sendErr, err)
}

// A Limiter spaces the attempts of a Client, and is told of the pauses a
// server asks for. Every attempt waits on it, retries included, and every
// 429 informs it. WithRateLimit makes one for the Client alone; a Limiter
// shared by many processes (package redislimit, on Redis) keeps a fleet
// that shares one Clerk key under the key's limit. A Limiter must be safe
// for concurrent use.
type Limiter interface {
	// Wait returns when an attempt may be sent, or with ctx's error, or
	// with the limiter's own (say, its store is unreachable). On an error
	// nothing is sent, and the call returns the error.
	Wait(ctx context.Context) error
	// Pause holds every attempt back until the given time, in every
	// process that shares the limiter: a 429's Retry-After applies to the
	// key, not the call.
	Pause(ctx context.Context, until time.Time)
}

// localLimiter is the Limiter of one Client: a pause that a 429 asked for,
// then the rate limiter, if there is one.
type localLimiter struct {
	limiter *rate.Limiter // nil: no limit
	clock   clock

	mu    sync.Mutex
	until time.Time // no attempt starts before this
}

// Wait blocks until an attempt may start or ctx is done. A pause or a rate
// that outlasts ctx's deadline fails at once. A pause that a 429 lengthens
// while a call waits holds that call back too.
func (t *localLimiter) Wait(ctx context.Context) error {
	if err := t.waitPause(ctx); err != nil {
		return err
	}
	if t.limiter == nil {
		return nil
	}
	if err := t.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", context.DeadlineExceeded, err)
	}
	return t.waitPause(ctx) // a 429 may have paused the client meanwhile
}

// waitPause returns once the client's pause is over, waiting again each
// time it finds that a 429 lengthened the pause it waited for.
func (t *localLimiter) waitPause(ctx context.Context) error {
	var waited time.Time // the end of the pause already waited for
	for {
		t.mu.Lock()
		until := t.until
		t.mu.Unlock()
		if !until.After(waited) { // none, or no longer than the one waited for
			return nil
		}
		d := until.Sub(t.clock.now())
		if d <= 0 {
			return nil
		}
		if !fits(ctx, d) {
			return fmt.Errorf("%w: the client is paused for %s after a 429", context.DeadlineExceeded, d.Round(time.Millisecond))
		}
		if err := t.clock.sleep(ctx, d); err != nil {
			return err
		}
		waited = until
	}
}

// Pause holds every attempt back until the given time.
func (t *localLimiter) Pause(_ context.Context, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.until) {
		t.until = until
	}
}

// fits reports whether a wait of d ends before ctx's deadline.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= d
}

// HTTPDoer sends one HTTP request and returns its response. *http.Client
// satisfies it.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

// maxBodyBytes caps how much of an answer is read. A sign-in token answer is
// well under 2 KiB; a larger body is an error rather than something to hold.
const maxBodyBytes = 1 << 20

// An answer is what one attempt sent and got back.
type answer struct {
	req *http.Request // the request sent, the doer's; nil if none was
	// notSent is set when the request provably did not leave: a body that
	// may not be sent twice, of which the transport never read a byte.
	notSent bool
	// notProcessed is set when the server said, of this request's HTTP/2
	// stream, that it did not process it (see http2NotProcessed).
	notProcessed bool
	// rsp is the response, its body already read (at most maxBodyBytes+1
	// bytes of it, into body) and closed; nil when the attempt failed in
	// transport.
	rsp     *http.Response
	body    []byte
	readErr error // what ended reading the body early, if anything
	// contentType and traceID are the answer's Content-Type and
	// X-Clerk-Trace-Id headers, as the server sent them.
	contentType, traceID string
	// otherRequest is set when rsp says it answers a request with another
	// method than the one sent: a doer that is not an *http.Client
	// followed a redirect (a POST turned into a GET).
	otherRequest bool
	// retryAfter is the Retry-After header's wait; hasRetryAfter says
	// whether there was a readable one.
	retryAfter    time.Duration
	hasRetryAfter bool
}

// attempt sends p once under the per-attempt deadline, reading the body
// before that deadline is released. It returns an error with an answer that
// has no response: the request could not be built (no req either) or sent.
// A failure while reading the body is the answer's readErr, so that the
// status code is kept.
func attempt(ctx context.Context, c *Client, op *gen.Operation, p gen.Call) (answer, error) {
	var own ownContext
	if c.sendHook == nil {
		ctx, own = c.attemptContext(ctx)
	}
	req, body, err := newRequest(ctx, c, op, p)
	if err == nil && c.sendHook != nil {
		// The attempt's timeout measures the request, from after the hook.
		if err = c.sendHook(req); err == nil {
			if ctx, own = c.attemptContext(ctx); own.made() {
				req = req.WithContext(ctx)
			}
		}
	}
	defer own.release()
	if err != nil {
		return answer{}, err
	}
	rsp, err := c.do(req)
	switch {
	case err != nil:
		if rsp != nil && rsp.Body != nil {
			rsp.Body.Close()
		}
		return answer{req: req, notSent: body != nil && body.seal() == 0,
			notProcessed: c.goDoer && http2NotProcessed(err)}, err
	case rsp == nil:
		return answer{req: req}, errors.New("the HTTP doer returned neither a response nor an error")
	case rsp.Body == nil:
		rsp.Body = http.NoBody
	}
	a := answer{req: req, rsp: rsp, otherRequest: rsp.Request != nil && rsp.Request.Method != req.Method,
		contentType: headerValue(rsp.Header, "Content-Type"), traceID: headerValue(rsp.Header, traceHeader)}
	if v := headerValue(rsp.Header, "Retry-After"); v != "" {
		a.retryAfter, a.hasRetryAfter = retryAfterValue(v, c.clock.now())
	}
	if !hasBody(rsp.StatusCode) {
		// A 1XX's body is the raw connection, which no deadline closes,
		// and a 3XX's is not an answer: close them unread.
		rsp.Body.Close()
	} else {
		a.body, a.readErr = readBody(ctx, rsp)
	}
	rsp.Body = http.NoBody
	return a, nil
}

// attemptContext bounds one attempt by the client's timeout. When the
// caller's deadline ends first, it is bound enough: no timer is made. Over a
// doer that is not Go's transport, the attempt's context is a
// deadlineContext, which also closes the body being read when it ends.
func (c *Client) attemptContext(ctx context.Context) (context.Context, ownContext) {
	timeout := c.timeout
	d, bound := ctx.Deadline()
	if timeout > 0 && bound && time.Until(d) <= timeout {
		timeout = 0
	}
	switch {
	case timeout <= 0 && (c.goDoer || !bound):
		return ctx, ownContext{}
	case c.goDoer:
		ctx, cancel := context.WithTimeout(ctx, timeout)
		return ctx, ownContext{cancel: cancel}
	}
	dc := newDeadlineContext(ctx, timeout)
	return dc, ownContext{dc: dc}
}

// An ownContext is the context an attempt made for itself, if it made one
// (see attemptContext): context.WithTimeout's, known by its cancel, or a
// deadlineContext, released by a method call rather than a func, which
// would be one more allocation.
type ownContext struct {
	cancel context.CancelFunc
	dc     *deadlineContext
}

// made reports whether the attempt made a context of its own.
func (o ownContext) made() bool { return o.cancel != nil || o.dc != nil }

// release ends the attempt's own context, if it made one.
func (o ownContext) release() {
	switch {
	case o.dc != nil:
		o.dc.release()
	case o.cancel != nil:
		o.cancel()
	}
}

// newRequest makes the request of one attempt, for its ctx, and sets the
// headers every call carries. Each attempt makes its own, so nothing has to
// be rewound. The key goes in Authorization on the request itself; it never
// reaches another origin because no redirect is followed (see noRedirects).
//
// The body of an operation that must not be sent twice, a create, is a
// sentBody: the transport cannot rewind it (no GetBody), so neither Go's
// HTTP/2 transport, which resends a rewindable request after a stream
// reset, nor any doer can replay it; and it counts what the transport read,
// the evidence that the request was not sent.
func newRequest(ctx context.Context, c *Client, op *gen.Operation, p gen.Call) (*http.Request, *sentBody, error) {
	buf := new(requestBuf)
	var body io.Reader
	if p.Body != nil {
		buf.reader.Reset(p.Body)
		body = &buf.reader
	}
	req, err := http.NewRequestWithContext(ctx, op.Method, p.URL, body)
	if err != nil {
		return nil, nil, fmt.Errorf("building the request: %w", err)
	}
	c.setHeaders(req, &buf.values)
	if p.Body == nil {
		return req, nil, nil
	}
	req.Header["Content-Type"] = buf.values[4:5:5]
	if op.Resendable {
		return req, nil, nil
	}
	buf.body.r = req.Body
	req.Body, req.GetBody = &buf.body, nil
	return req, &buf.body, nil
}

// requestBuf is what one request adds to the one http.NewRequest makes, in
// one allocation: its header values, its body's reader and, for a create,
// its sentBody.
type requestBuf struct {
	values [5]string
	reader bytes.Reader
	body   sentBody
}

// headerSetter returns the function that sets the headers of every
// request, its values in v: the key, the media type, the API version, the
// User-Agent, and the body's media type. The key lives only in this closure:
// fmt never prints what a func holds.
func headerSetter(secretKey, apiVersion, userAgent string) func(req *http.Request, v *[5]string) {
	values := [5]string{"Bearer " + secretKey, "application/json", apiVersion, userAgent, "application/json"}
	return func(req *http.Request, v *[5]string) {
		// The keys are in canonical form.
		*v = values
		req.Header["Authorization"] = v[0:1:1]
		req.Header["Accept"] = v[1:2:2]
		req.Header["Clerk-Api-Version"] = v[2:3:3]
		req.Header["User-Agent"] = v[3:4:4]
	}
}

// keptHeaders are the headers of the request a response keeps: those the
// SDK sends, without Authorization. One client's responses share them;
// they are read-only.
type keptHeaders struct{ plain, json http.Header }

func newKeptHeaders(apiVersion, userAgent string) keptHeaders {
	plain := http.Header{"Accept": {"application/json"}, "Clerk-Api-Version": {apiVersion}, "User-Agent": {userAgent}}
	json := plain.Clone()
	json["Content-Type"] = []string{"application/json"}
	return keptHeaders{plain, json}
}

// keep makes dst a copy of the request sent with the headers the SDK set
// but Authorization, so that printing it never prints the key. The sent
// request is the doer's and is left as it was: a doer may hold on to it.
func (h keptHeaders) keep(dst, sent *http.Request) *http.Request {
	*dst = *sent
	dst.Header = h.plain
	if _, ok := sent.Header["Content-Type"]; ok {
		dst.Header = h.json
	}
	dst.Body, dst.GetBody = http.NoBody, nil
	return dst
}

// sentBody is a create's request body. It counts the bytes the transport
// has read; seal stops any further read and returns the count, so that a
// count of 0 proves that no byte of the body left, whatever the doer did
// and whatever error it returned.
type sentBody struct {
	mu     sync.Mutex
	r      io.ReadCloser
	n      int64
	sealed bool
}

func (b *sentBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return 0, errors.New("clerk: the request's attempt has ended")
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *sentBody) Close() error { return b.r.Close() }

// seal ends reading and reports how many bytes were read.
func (b *sentBody) seal() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sealed = true
	return b.n
}

// do sends req through the doer. An *http.Client without a cookie jar or a
// timeout of its own is passed over for its transport: for a request that
// follows no redirect (noRedirects), what its Do adds is a copy of the
// request's headers, kept for a redirect, which costs about a tenth of an
// in-memory call (BENCHMARKS.md). Its errors are made as Do makes them: a
// *url.Error naming the method and URL, and http.ErrSchemeMismatch for an
// answer in plain HTTP to HTTPS.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.transport == nil {
		return c.doer.Do(req)
	}
	rsp, err := c.transport.RoundTrip(req)
	if err == nil {
		return rsp, nil
	}
	if rh, ok := err.(tls.RecordHeaderError); ok && string(rh.RecordHeader[:]) == "HTTP/" {
		err = http.ErrSchemeMismatch
	}
	return rsp, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
}

// urlErrorOp is the Op of Do's *url.Error for a method: "Post" for POST.
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// passOver returns the transport of a doer whose Do the SDK passes over
// (see Client.do), or nil: an *http.Client with a cookie jar or a timeout
// is called through Do, which applies them. doer is noRedirects': its
// transport is never nil.
func passOver(doer HTTPDoer) http.RoundTripper {
	hc, ok := doer.(*http.Client)
	if !ok || hc.Jar != nil || hc.Timeout != 0 {
		return nil
	}
	return hc.Transport
}

// noRedirects returns a doer that does not follow redirects: for an
// *http.Client, a shallow copy that refuses them over a transport that
// drops the Location header of a 3XX, sharing the caller's transport and its
// connections. Go's client keeps Authorization on a redirect to the same
// host on another port or scheme and to its subdomains, and turns a POST
// into a GET on 301, 302 and 303; it also parses a 3XX's Location before it
// asks CheckRedirect, and fails on one that does not parse, losing the
// status and quoting the Location in the error. Clerk never redirects. Any
// other doer is returned as it is.
func noRedirects(doer HTTPDoer) HTTPDoer {
	hc, ok := doer.(*http.Client)
	if !ok {
		return doer
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	switch tr := hc.Transport.(type) {
	case noLocation: // NewHTTPClient's: wrapped already
	case nil:
		c.Transport = noLocation{http.DefaultTransport}
	default:
		c.Transport = noLocation{tr}
	}
	return &c
}

// noLocation is a transport that removes Location from every 3XX answer.
type noLocation struct{ next http.RoundTripper }

func (t noLocation) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := t.next.RoundTrip(req)
	if err == nil && rsp != nil && rsp.StatusCode >= 300 && rsp.StatusCode < 400 {
		delete(rsp.Header, "Location")
	}
	return rsp, err
}

// CloseIdleConnections closes the idle connections of the transport below.
func (t noLocation) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// traceHeader is the response header in which Clerk names the request's trace.
const traceHeader = "X-Clerk-Trace-Id"

// headerValue is the first value of a header whose key is in canonical
// form, as http.Header.Get returns it without canonicalizing the key again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// retryAfterValue parses Retry-After as seconds or an HTTP date. A date in
// the past is a wait of 0; a negative or unreadable value is no header.
func retryAfterValue(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		const maxSecs = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(secs, maxSecs)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// hasBody reports whether an answer with this status is read: never a 1XX
// (a 101's body is the connection itself) nor a 3XX.
func hasBody(status int) bool {
	return status >= 200 && (status < 300 || status >= 400)
}

// readBody reads at most maxBodyBytes+1 bytes of a response body and closes
// it, so that a body over the cap can be told apart from one exactly at it.
// net/http's transport ends a body's Read when the request's context ends;
// another doer's body may not, and a blocked Read ends only when its body
// closes: a deadlineContext closes it when it ends.
func readBody(ctx context.Context, rsp *http.Response) ([]byte, error) {
	body := rsp.Body // the context's own: attempt replaces rsp.Body once read
	defer body.Close()
	dc, _ := ctx.(*deadlineContext)
	if dc != nil {
		dc.watch(body)
	}
	buf, err := readAtMost(rsp)
	if dc != nil {
		dc.watch(nil)
	}
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return buf, err
}

// readAtMost reads at most maxBodyBytes+1 bytes of the body, into a buffer
// sized from Content-Length plus one byte, so that io.EOF arrives without a
// second allocation.
func readAtMost(rsp *http.Response) ([]byte, error) {
	size := 512
	if n := rsp.ContentLength; n >= 0 && n <= maxBodyBytes {
		size = int(n) + 1
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rsp.Body.Read(buf[len(buf):min(cap(buf), maxBodyBytes+1)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > maxBodyBytes, err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

// RetryPolicy says how often and how long to wait before sending a request
// again. Which answers are retried is fixed per operation (see the package
// documentation): a retried Create must never make a second token.
//
// The zero RetryPolicy sends every request once.
type RetryPolicy struct {
	// MaxRetries is how many times a request may be sent again after the
	// first attempt; 0 means never.
	MaxRetries int
	// InitialInterval is the wait before the first retry; each further wait
	// doubles it, up to MaxInterval. Waits are jittered: each is between half
	// the interval and the whole of it.
	InitialInterval time.Duration
	// MaxInterval caps the wait between two attempts.
	MaxInterval time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for. A longer
	// one ends the call at once with an *APIError whose RetryAfter is set.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the policy a client uses unless told otherwise:
// 2 retries, waits from 500 ms doubling up to 8 s, and Retry-After honoured
// up to 10 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 2, InitialInterval: 500 * time.Millisecond, MaxInterval: 8 * time.Second, MaxRetryAfter: 10 * time.Second}
}

// retryDecision is the outcome of shouldRetry: whether to try again, why (for
// logs and tests), and how long to wait first.
type retryDecision struct {
	retry  bool
	reason string
	wait   time.Duration
}

// shouldRetry decides about one finished attempt: a is its answer, without
// a response when err says why there was none. retries is how many retries
// were already made.
func (p RetryPolicy) shouldRetry(resendable bool, retries int, a *answer, err error, jitter func(time.Duration) time.Duration) retryDecision {
	why, ok := retryable(resendable, a, err)
	switch {
	case !ok:
		return retryDecision{reason: why}
	case retries >= p.MaxRetries:
		return retryDecision{reason: "retries exhausted after: " + why}
	}
	wait := p.backoff(retries, jitter)
	if a.hasRetryAfter {
		if a.retryAfter > p.MaxRetryAfter {
			return retryDecision{reason: "retry-after longer than the policy allows"}
		}
		wait = a.retryAfter
	}
	return retryDecision{retry: true, reason: why, wait: wait}
}

// retryable says whether an attempt's outcome may be retried, and why.
func retryable(resendable bool, a *answer, err error) (string, bool) {
	if err != nil {
		return retryableError(resendable, a, err)
	}
	switch status := a.rsp.StatusCode; {
	case a.otherRequest:
		return "answer to another request than the one sent", false
	case a.readErr != nil && !resendable:
		return "reading a create's answer failed after it was sent", false
	case a.readErr != nil:
		return "reading the answer failed", true
	case status == http.StatusTooManyRequests:
		// A 429 was not processed, so even a create may be sent again.
		return "rate limited", true
	case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		if !resendable {
			// The server may have made the token before failing.
			return "server error on a create", false
		}
		return "server unavailable", true
	default:
		return "final answer", false
	}
}

// retryableError says whether a transport error may be retried, and why.
// A create is sent again only when it provably did not leave: no byte of
// its body was read (a.notSent). The type of the error proves nothing: a
// doer that fails over, or follows a redirect, can return a dial error
// after another endpoint read the whole create.
func retryableError(resendable bool, a *answer, err error) (string, bool) {
	switch {
	case tlsVerification(err):
		return "tls verification failed", false
	case !resendable && a.notSent:
		return "no byte of the create was sent", true
	case !resendable && a.notProcessed:
		return "the server did not process the create's HTTP/2 stream", true
	case !resendable:
		return "transport error after the create may have been sent", false
	case transient(err):
		return "transport error", true
	default:
		return "permanent error", false
	}
}

// backoff is the wait before retry number retries+1.
func (p RetryPolicy) backoff(retries int, jitter func(time.Duration) time.Duration) time.Duration {
	d := p.InitialInterval
	for i := 0; i < retries && d < p.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, p.MaxInterval)
	if d <= 0 {
		return 0
	}
	return d/2 + jitter(d-d/2)
}

func tlsVerification(err error) bool {
	var verr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hnErr x509.HostnameError
	var ciErr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uaErr) || errors.As(err, &hnErr) || errors.As(err, &ciErr)
}

// transient reports transport errors worth another attempt of a resendable
// request: resets, unexpected ends of stream, HTTP/2 stream errors and
// timeouts of one attempt.
func transient(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) || http2Error(err) {
		return true
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // *url.Error is a net.Error whatever it wraps
	}
	var nerr net.Error
	return errors.As(err, &nerr)
}

// http2Error reports whether err is, or wraps, an HTTP/2 stream reset, a
// GOAWAY or a connection error: the stream ended without an answer, which
// Go 1.27's transport returns where Go 1.26's resent a request on its own.
func http2Error(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		t := reflect.TypeOf(err)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if isHTTP2Error(t.PkgPath(), t.Name()) {
			return true
		}
	}
	return false
}

// isHTTP2Error reports whether a type, by package and name, is one of
// HTTP/2's stream, GOAWAY and connection errors: net/http does not export
// them (Go 1.26 bundles them in net/http, Go 1.27 has them in
// net/http/internal/http2), and golang.org/x/net/http2 has its own.
func isHTTP2Error(pkg, name string) bool {
	switch pkg {
	case "net/http":
		return name == "http2StreamError" || name == "http2GoAwayError" || name == "http2ConnectionError"
	case "net/http/internal/http2", "golang.org/x/net/http2":
		return name == "StreamError" || name == "GoAwayError" || name == "ConnectionError"
	}
	return false
}

// http2NotProcessed reports whether err is Go's HTTP/2 transport saying
// that the server did not process the request (RFC 9113, 8.7: it refused
// the stream with REFUSED_STREAM, or the stream is above a graceful
// GOAWAY's last-stream-id), which the transport would have sent again but
// for a body it cannot rewind, a create's. The transport keeps only the
// cause's text (%v), the same on Go 1.26 and 1.27. Go 1.26 also calls a
// PROTOCOL_ERROR reset retryable; the server may have processed that one,
// and it is not matched.
func http2NotProcessed(err error) bool {
	var uerr *url.Error
	if !errors.As(err, &uerr) || uerr.Err == nil {
		return false
	}
	cause, ok := strings.CutPrefix(uerr.Err.Error(), "http2: Transport: cannot retry err [")
	cause, ok2 := strings.CutSuffix(cause, "] after Request.Body was written; define Request.GetBody to avoid this error")
	switch {
	case !ok || !ok2:
		return false
	case cause == "http2: Transport received Server's graceful shutdown GOAWAY":
		return true
	}
	// "stream error: stream ID 3; REFUSED_STREAM; received from peer"
	id, ok := strings.CutPrefix(cause, "stream error: stream ID ")
	id, code, ok2 := strings.Cut(id, "; ")
	_, err = strconv.ParseUint(id, 10, 31)
	return ok && ok2 && err == nil && code == "REFUSED_STREAM; received from peer"
}

// pauseAfter429 pauses every call of the client after a 429, whether or not
// this call tries again: the server is limiting the client, not the call.
// The pause lasts the answer's Retry-After, else the wait the policy gives.
func (c *Client) pauseAfter429(ctx context.Context, a *answer, retries int, d retryDecision) {
	if a.rsp == nil || a.rsp.StatusCode != http.StatusTooManyRequests {
		return
	}
	now := c.clock.now()
	pause := d.wait
	switch {
	case a.hasRetryAfter:
		pause = a.retryAfter
	case !d.retry:
		pause = c.policy.backoff(retries, c.clock.jitter)
	}
	c.limiter.Pause(ctx, now.Add(pause))
}

// Attempt is what one attempt of a call came to, as WithAttemptHook and
// WithLogger are told of it. Nothing in it carries a header or a body:
// what it takes from the answer and the error is cleaned.
type Attempt struct {
	// Method is the request's method.
	Method string
	// Path is the request's path, as sent (escaped).
	Path string
	// Number counts the call's attempts, from 1.
	Number int
	// Waited is the wait before this attempt for the retry policy's
	// backoff (not the limiter's); Took is the attempt's own time.
	Waited, Took time.Duration
	// StatusCode is the answer's status; 0 when there was none.
	StatusCode int
	// TraceID is Clerk's trace ID of the answer, cleaned.
	TraceID string
	// Err is the transport error, or the error reading the answer's body,
	// as one printable line with secrets removed; nil otherwise. For the
	// error itself, use what the call returns.
	Err error
	// Retry says the call tries again.
	Retry bool
	// RetryReason says why it tries again, as the retry policy does.
	RetryReason string
	// NextWait is how long the call waits before it tries again.
	NextWait time.Duration
}

// attempted describes one attempt.
func (c *Client) attempted(a *answer, err error, number int, waited, took time.Duration, d retryDecision) Attempt {
	at := Attempt{Method: a.req.Method, Path: a.req.URL.EscapedPath(), Number: number, Waited: waited, Took: took,
		Retry: d.retry, RetryReason: d.reason, NextWait: d.wait}
	if !d.retry {
		at.RetryReason, at.NextWait = "", 0
	}
	if a.rsp != nil {
		at.StatusCode = a.rsp.StatusCode
		at.TraceID = oneLine(c.redact(a.traceID))
		if a.readErr != nil {
			err = a.readErr
		}
	}
	if err != nil {
		at.Err = errors.New(oneLine(c.redact(err.Error())))
	}
	return at
}

// tell gives an attempt to the hook and writes its log record.
func (c *Client) tell(ctx context.Context, at Attempt) {
	if c.attemptHook != nil {
		c.attemptHook(ctx, at)
	}
	if c.logger != nil {
		c.log(ctx, at)
	}
}

// log writes one record for one attempt.
func (c *Client) log(ctx context.Context, at Attempt) {
	attrs := []slog.Attr{
		slog.String("method", at.Method),
		slog.String("path", at.Path),
		slog.Int("attempt", at.Number),
		slog.Duration("wait", at.Waited),
		slog.Duration("duration", at.Took),
	}
	level := slog.LevelInfo
	if at.StatusCode != 0 {
		attrs = append(attrs, slog.Int("status", at.StatusCode))
		if at.TraceID != "" {
			attrs = append(attrs, slog.String("trace_id", at.TraceID))
		}
	}
	if at.Err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", at.Err.Error()))
	}
	if at.Retry {
		attrs = append(attrs, slog.String("retry", at.RetryReason), slog.Duration("next_wait", at.NextWait))
	}
	c.logger.LogAttrs(ctx, level, "clerk request", attrs...)
}

// clock is the time and randomness of retries and the local limiter,
// replaced in tests.
type clock struct {
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration // a random duration in [0, d]
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
