package clerktest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/clerkgo/signintokens"
	"github.com/clerkgo/signintokens/gen"
)

// TraceHeader is the response header that carries the trace ID that is also
// the clerk_trace_id of every error body.
const TraceHeader = "X-Clerk-Trace-Id"

// MaxBodyBytes is the largest request body the fake reads. A larger one is
// answered 413 request_body_too_large, never cut short and read as valid.
const MaxBodyBytes = 1 << 20

// RecordedBodyBytes is how much of each body a Request keeps.
const RecordedBodyBytes = 4 << 10

// DefaultRequestLimit is how many requests the fake remembers unless
// WithRequestLimit says otherwise.
const DefaultRequestLimit = 2000

// Request is one request the fake received.
type Request struct {
	// Method is the HTTP method, such as POST.
	Method string
	// Path is the escaped path, such as /v1/sign_in_tokens.
	Path string
	// Header holds the request's headers, Authorization included.
	Header http.Header
	// Body is the start of the request's body, up to RecordedBodyBytes.
	Body []byte
	// Status is the status the fake answered with; 0 for a dropped connection.
	Status int
}

// Fault is a scripted answer for the next requests, set with FailNext.
type Fault struct {
	// Status is the status to answer with. With 0 and Drop false, the fake
	// answers as usual, after Delay.
	Status int
	// Header is added to the answer.
	Header http.Header
	// Body is the answer's body, sent as is.
	Body string
	// Delay is how long to wait before answering; the wait ends early if
	// the client goes away. With AfterProcessing the request takes effect
	// first, so it does even when the client leaves during the wait.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// AfterProcessing lets the request take effect before the fault
	// replaces its answer, as when an answer is lost on its way back: with
	// Drop or a Status, that answer is sent instead of the usual one; with
	// neither, the usual answer is sent after Delay.
	AfterProcessing bool
}

// AnswerLost is the fault a caller of Create must be ready for: the token
// is made, and its answer is lost on its way back. With status 0 the
// connection is dropped; with a gateway's status (502, 504) that status is
// the answer. Add a Delay longer than the client waits for an answer that
// never comes in time. The client's error matches client.ErrMaybeCreated,
// and SignInTokens lists the token:
//
//	srv.FailNext(1, clerktest.AnswerLost(0))
//	_, err := c.SignInTokens.Create(ctx, req) // errors.Is(err, client.ErrMaybeCreated)
//	toks := srv.SignInTokens()                // the token that was made
func AnswerLost(status int) Fault {
	return Fault{AfterProcessing: true, Status: status, Drop: status == 0}
}

type fault struct {
	Fault
	left int
}

type rateLimit struct {
	n      int
	window time.Duration
	start  time.Time
	used   int
}

// FailNext makes the next n requests meet flt instead of (or, with
// AfterProcessing, after) their usual answer. Calls queue up in order.
func (f *Fake) FailNext(n int, flt Fault) {
	if n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fault{Fault: flt, left: n})
}

// SetRateLimit lets n requests through per window, and answers the others
// 429 with Retry-After (whole seconds until the window ends), as Clerk
// does. n <= 0 turns the limit off, which is the default.
func (f *Fake) SetRateLimit(n int, window time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = rateLimit{n: n, window: window}
}

// Requests returns the requests received so far, oldest first: the last
// ones only, as many as WithRequestLimit allows.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	for i, r := range f.requests {
		out[i] = *r
	}
	return out
}

// ClearRequests forgets the requests received so far.
func (f *Fake) ClearRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// remember adds a request to the record, forgetting the oldest past the
// limit, and returns it so that its status can be set once written.
func (f *Fake) remember(r Request) *Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.requestLimit <= 0 {
		return &r
	}
	if len(f.requests) >= f.requestLimit {
		n := copy(f.requests, f.requests[len(f.requests)-f.requestLimit+1:])
		clear(f.requests[n:])
		f.requests = f.requests[:n]
	}
	f.requests = append(f.requests, &r)
	return &r
}

// routes assembles the handler: every request is recorded, may meet a
// scripted fault or the rate limit, is authenticated and validated against
// the OpenAPI document, and reaches the generated strict server.
func (f *Fake) routes() http.Handler {
	validate := newValidator()
	api := gen.HandlerWithOptions(gen.NewStrictHandlerWithOptions(server{f}, nil, gen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, http.StatusUnprocessableEntity, "form_param_value_invalid", "is invalid", "The request body could not be read.", "")
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, http.StatusInternalServerError, "internal_clerk_error", "internal error", err.Error(), "")
		},
	}), gen.StdHTTPServerOptions{BaseURL: "/v1"})

	// No http.ServeMux at the top: it would redirect paths such as
	// /v1/sign_in_tokens//revoke before the key is checked, where Clerk
	// answers 404.
	authed := f.authenticate(checkBody(validate(api)))
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/tickets/accept" {
			f.acceptTicket(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
	return f.record(f.faultsAndLimits(top))
}

type traceKey struct{}

type baseURLKey struct{}

type tooLargeKey struct{}

func traceFrom(ctx context.Context) string {
	s, _ := ctx.Value(traceKey{}).(string)
	return s
}

func baseURLFrom(ctx context.Context) string {
	s, _ := ctx.Value(baseURLKey{}).(string)
	return s
}

// statusWriter reports the status as it is written: before the client can
// read the answer, so that Requests never lags behind what a client saw.
type statusWriter struct {
	http.ResponseWriter
	wrote    bool
	onStatus func(int)
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.onStatus(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// record keeps each request as it arrives, and its status once written;
// reads its body (up to MaxBodyBytes, noting a larger one); gives it a trace
// ID; tells the handlers the server's own base URL; and logs it.
func (f *Fake) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		tooLarge := len(body) > MaxBodyBytes
		r.Body = io.NopCloser(bytes.NewReader(body[:min(len(body), MaxBodyBytes)]))
		rec := f.remember(Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(),
			Body: bytes.Clone(body[:min(len(body), RecordedBodyBytes)])})

		trace := "trace_" + randomHex(8)
		w.Header().Set(TraceHeader, trace)
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		ctx := context.WithValue(r.Context(), traceKey{}, trace)
		ctx = context.WithValue(ctx, baseURLKey{}, scheme+"://"+r.Host)
		ctx = context.WithValue(ctx, tooLargeKey{}, tooLarge)
		sw := &statusWriter{ResponseWriter: w, onStatus: func(code int) {
			f.mu.Lock()
			rec.Status = code
			f.mu.Unlock()
		}}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if f.log != nil {
			f.mu.Lock()
			status := rec.Status
			f.mu.Unlock()
			fmt.Fprintf(f.log, "%s %s %s %d %s %s\n", start.UTC().Format(time.RFC3339Nano), r.Method, r.URL.EscapedPath(),
				status, time.Since(start).Round(time.Microsecond), trace)
		}
	})
}

// checkBody answers as Clerk does a body it cannot read: too large (413),
// or not JSON, trailing data included (400 request_body_invalid).
func checkBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tooLarge, _ := r.Context().Value(tooLargeKey{}).(bool); tooLarge {
			writeError(w, r, http.StatusRequestEntityTooLarge, "request_body_too_large", "too large",
				fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes), "")
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if len(bytes.TrimSpace(body)) > 0 && strings.Contains(r.Header.Get("Content-Type"), "json") && !json.Valid(body) {
			writeError(w, r, http.StatusBadRequest, "request_body_invalid", "Request body invalid",
				"The request body is not valid JSON.", "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// faultsAndLimits applies the next scripted fault or the rate limit.
func (f *Fake) faultsAndLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flt, ok := f.nextFault()
		if !ok {
			if wait, limited := f.rateLimited(); limited {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				writeError(w, r, http.StatusTooManyRequests, "too_many_requests", "Too many requests",
					"You have exceeded the maximum number of requests allowed, please try again later.", "")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		var usual *httptest.ResponseRecorder
		if flt.AfterProcessing {
			usual = httptest.NewRecorder()
			next.ServeHTTP(usual, r)
		}
		if flt.Delay > 0 {
			t := time.NewTimer(flt.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case flt.Drop:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
				return
			}
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream
		case flt.Status == 0 && usual != nil:
			writeRecorded(w, usual)
			return
		case flt.Status == 0:
			next.ServeHTTP(w, r)
			return
		}
		for k, vs := range flt.Header {
			w.Header()[k] = append([]string(nil), vs...)
		}
		w.WriteHeader(flt.Status)
		_, _ = io.WriteString(w, flt.Body)
	})
}

// writeRecorded sends an answer recorded earlier.
func writeRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (f *Fake) nextFault() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.faults) == 0 {
		return Fault{}, false
	}
	flt := f.faults[0]
	f.faults[0].left--
	if f.faults[0].left == 0 {
		f.faults = f.faults[1:]
	}
	return flt.Fault, true
}

// rateLimited counts a request against the current window and reports how
// long until the window ends when it is over the limit.
func (f *Fake) rateLimited() (time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := &f.limit
	if l.n <= 0 || l.window <= 0 {
		return 0, false
	}
	now := f.now()
	if l.start.IsZero() || !now.Before(l.start.Add(l.window)) {
		l.start, l.used = now, 0
	}
	if l.used < l.n {
		l.used++
		return 0, false
	}
	return l.start.Add(l.window).Sub(now), true
}

// Clerk's answers to a request without the key, from its error reference:
// an Authorization header that is missing or not "Bearer <key>", and a
// well-formed key Clerk does not know.
const (
	headerFormatMessage     = "Invalid Authorization header format"
	headerFormatLongMessage = "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'"
	keyInvalidMessage       = "The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct."
)

// authenticate answers 401, as Clerk does, unless the request bears the key:
// authorization_header_format_invalid for a header that is missing or not
// a bearer token, clerk_key_invalid for a key that is not the fake's.
func (f *Fake) authenticate(next http.Handler) http.Handler {
	want := []byte(f.secretKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !ok || key == "" || strings.ContainsAny(key, " \t"):
			writeError(w, r, http.StatusUnauthorized, "authorization_header_format_invalid", headerFormatMessage, headerFormatLongMessage, "")
		case subtle.ConstantTimeCompare([]byte(key), want) != 1:
			writeError(w, r, http.StatusUnauthorized, "clerk_key_invalid", keyInvalidMessage, keyInvalidMessage, "")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// acceptTicket is the sign-in URL: following it accepts the token.
func (f *Fake) acceptTicket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	var id string
	f.mu.Lock()
	for _, t := range f.tokens {
		if ticket != "" && t.Token != nil && *t.Token == ticket {
			id = t.ID
		}
	}
	f.mu.Unlock()
	if err := f.AcceptSignInToken(id); err != nil || id == "" {
		http.Error(w, "this sign-in link is not valid", http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "signed in\n")
}

// newValidator returns a middleware that checks each request against the
// OpenAPI document and answers what Clerk would for one it forbids.
func newValidator() func(http.Handler) http.Handler {
	router := specRouter()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route, params, err := router.FindRoute(r)
			if err != nil || r.URL.Path != path.Clean(r.URL.Path) {
				// Clerk answers 404 for an unknown route and for an unknown
				// method on a known one.
				writeError(w, r, http.StatusNotFound, "resource_not_found", "not found", "Resource not found", "")
				return
			}
			err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: r, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
			if err != nil {
				code, message, long, param := formError(err)
				writeError(w, r, http.StatusUnprocessableEntity, code, message, long, param)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// specRouter finds the operation of a request under /v1 on any host in the
// embedded OpenAPI document.
func specRouter() routers.Router {
	doc, err := openapi3.NewLoader().LoadFromData(signintokens.OpenAPI)
	if err != nil {
		panic("clerktest: the embedded OpenAPI document does not load: " + err.Error())
	}
	doc.Servers = openapi3.Servers{{URL: "/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		panic("clerktest: " + err.Error())
	}
	return router
}

// unsupported names the property in kin-openapi's error for one the schema
// does not allow.
var unsupported = regexp.MustCompile(`property "([^"]*)" is unsupported`)

// formError is Clerk's error for a request the document forbids: its code,
// message, long message and parameter, worded as Clerk words them.
func formError(err error) (code, message, long, param string) {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return "form_param_value_invalid", "is invalid", "The request body could not be read.", ""
	}
	param = strings.Join(se.JSONPointer(), ".")
	switch se.SchemaField {
	case "required":
		return "form_param_missing", "is missing", param + " must be included.", param
	case "properties", "additionalProperties": // a property the schema does not allow
		if m := unsupported.FindStringSubmatch(se.Reason); m != nil {
			param = m[1]
		}
		return "form_param_unknown", "is unknown", param + " is not a valid parameter for this request.", param
	}
	return "form_param_value_invalid", "is invalid", param + " is invalid", param
}

// writeError writes a Clerk error body with one error, and its trace ID.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message, long, param string) {
	body := clerkErrors(traceFrom(r.Context()), code, message, long, param)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
