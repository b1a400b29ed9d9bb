package clerktest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
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

// Request is one request the fake received.
type Request struct {
	// Method is the HTTP method, such as POST.
	Method string
	// Path is the escaped path, such as /v1/sign_in_tokens.
	Path string
	// Header holds the request's headers, Authorization included.
	Header http.Header
	// Body is the request's body, up to 1 MiB.
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
	// the client goes away.
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// AfterProcessing lets the request take effect before the fault replaces
	// its answer, as when an answer is lost on its way back.
	AfterProcessing bool
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

// Requests returns the requests received so far, oldest first.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.requests))
	copy(out, f.requests)
	return out
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

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/tickets/accept", f.acceptTicket)
	mux.Handle("/", f.authenticate(validate(api)))
	return f.record(f.faultsAndLimits(mux))
}

type traceKey struct{}

type baseURLKey struct{}

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
// gives it a trace ID; and tells the handlers the server's own base URL.
func (f *Fake) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		i := len(f.requests)
		f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()

		trace := "trace_" + randomHex(8)
		w.Header().Set(TraceHeader, trace)
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		ctx := context.WithValue(r.Context(), traceKey{}, trace)
		ctx = context.WithValue(ctx, baseURLKey{}, scheme+"://"+r.Host)
		sw := &statusWriter{ResponseWriter: w, onStatus: func(code int) {
			f.mu.Lock()
			f.requests[i].Status = code
			f.mu.Unlock()
		}}
		next.ServeHTTP(sw, r.WithContext(ctx))
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
		if flt.Delay > 0 {
			t := time.NewTimer(flt.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if flt.AfterProcessing {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		switch {
		case flt.Drop:
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
				return
			}
			panic(http.ErrAbortHandler) // HTTP/2: abort the stream
		case flt.Status == 0:
			if !flt.AfterProcessing {
				next.ServeHTTP(w, r)
			}
			return
		}
		for k, vs := range flt.Header {
			w.Header()[k] = append([]string(nil), vs...)
		}
		w.WriteHeader(flt.Status)
		_, _ = io.WriteString(w, flt.Body)
	})
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

// authenticate answers 401, as Clerk does, unless the request bears the key.
func (f *Fake) authenticate(next http.Handler) http.Handler {
	want := []byte("Bearer " + f.secretKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			writeError(w, r, http.StatusUnauthorized, "authentication_invalid", "Invalid authentication",
				"Unable to authenticate the request, you need to supply an active secret key.", "")
			return
		}
		next.ServeHTTP(w, r)
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
	if err := f.Accept(id); err != nil || id == "" {
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
			if err != nil {
				status, code := http.StatusNotFound, "resource_not_found"
				if errors.Is(err, routers.ErrMethodNotAllowed) {
					status, code = http.StatusMethodNotAllowed, "method_not_allowed"
				}
				writeError(w, r, status, code, "not found", "No route matches "+r.Method+" "+r.URL.EscapedPath()+".", "")
				return
			}
			err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request: r, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
			if err != nil {
				code, param := clerkCode(err)
				writeError(w, r, http.StatusUnprocessableEntity, code, "is invalid", "The request does not match the API: "+oneLine(err.Error()), param)
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

// clerkCode is the Clerk error code, and the parameter, for a request the
// document forbids.
func clerkCode(err error) (code, param string) {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return "form_param_value_invalid", ""
	}
	param = strings.Join(se.JSONPointer(), ".")
	switch se.SchemaField {
	case "required":
		return "form_param_missing", param
	case "properties", "additionalProperties": // a property the schema does not allow
		return "form_param_unknown", param
	}
	return "form_param_value_invalid", param
}

// writeError writes a Clerk error body with one error, and its trace ID.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message, long, param string) {
	body := clerkErrors(traceFrom(r.Context()), code, message, long, param)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
