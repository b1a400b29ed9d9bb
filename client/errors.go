package client

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clerkgo/signintokens/gen"
)

// ErrInvalidRequest is matched, with errors.Is, by every error from an input
// check made before sending. When it matches, nothing was sent.
var ErrInvalidRequest = errors.New("clerk: invalid request")

// ErrMaybeCreated is matched, with errors.Is, by the error of a Create that
// may have made a sign-in token: its body was sent and no answer says Clerk
// refused it (a 5XX, a timeout or a lost connection after the body left, an
// answer the SDK had to refuse, such as a 2XX whose body does not decode).
// It never matches a Create that provably was not sent, that the server
// said it did not process (an HTTP/2 stream refused, or above a graceful
// GOAWAY's last stream, as Go's transport reports them), or that Clerk
// answered with a 4XX, nor a Revoke. Before creating again for the same
// user, check for the token (Clerk's Dashboard logs sign_in_token.created
// events) or revoke it: a second create makes a second live credential.
var ErrMaybeCreated = errors.New("clerk: the create may have made a credential")

// maybeCreatedNote ends the message of an error that matches
// ErrMaybeCreated, naming what the create makes, such as a sign-in token.
func maybeCreatedNote(credential string) string {
	return " (the create may have made a " + cmp.Or(credential, "credential") + ")"
}

// invalid reports a failed input check on field.
func invalid(field, rule string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidRequest, field, rule)
}

// outcome is what a call returns for its last attempt: a, with err when
// the attempt failed in transport or waiting for another attempt ended the
// call. An answer is mapped to the model, decoded into dst, or to a typed
// error, following the bodies the document gives each status; valid
// rejects a success body that cannot be used.
func outcome[T any](o *origin, bodies map[int]bodyKind, valid func(got *T, ask string) error, a *answer, err error, ask string, dst *T) error {
	if a.rsp == nil {
		return newRequestError(o, "", err)
	}
	mapped := mapAnswer(bodies, valid, a, o, ask, dst)
	if e, ok := mapped.(*APIError); ok && err != nil && e.err == nil {
		// The answer asked for another attempt, and the wait for it ended
		// the call: the answer's error says why it is final.
		e.err, e.errText = err, o.redact(err.Error())
	}
	return mapped
}

// mapAnswer maps the final answer of a call to its success model, decoded
// into dst, or to a typed error, following the bodies the document gives
// each status (see operation). valid rejects a success body that cannot be
// used or does not answer the call, which asked for ask; o names the call in errors and cleans what they keep.
//
// The generated parser is not used: it reads bodies without a bound, matches
// content types case-sensitively and drops the status code when a body does
// not decode.
func mapAnswer[T any](bodies map[int]bodyKind, valid func(got *T, ask string) error, a *answer, o *origin, ask string, dst *T) error {
	status := a.rsp.StatusCode
	kind, documented := bodies[status]
	fail := func(msg string, err error) error {
		return newAPIError(a, o, msg, err)
	}
	switch {
	case a.otherRequest:
		return fail("answer to another request than the one sent", nil)
	case !hasBody(status):
		return fail("unknown status code", nil)
	case a.readErr != nil:
		return fail("reading response body", a.readErr)
	case len(a.body) > maxBodyBytes:
		return fail(fmt.Sprintf("response body over %d bytes", maxBodyBytes), nil)
	case documented && !isJSON(a.contentType):
		return fail("unknown content type", nil)
	case documented && kind == successBody:
		if err := json.Unmarshal(a.body, dst); err != nil {
			return fail("invalid response body", err)
		}
		if err := valid(dst, ask); err != nil {
			return fail("invalid response body", err)
		}
		return nil
	case documented && kind == errorsBody:
		ce, err := decodeClerkErrors([]byte(o.redact(string(a.body))))
		if err != nil {
			return fail("invalid response body", err)
		}
		return newClerkErrors(a, o, ce)
	case documented:
		return fail("unexpected response schema", nil)
	case status >= 400 && status < 600:
		e := newAPIError(a, o, "API error occurred", nil)
		if len(e.Errors) > 0 && e.Errors[0].Code != "" {
			e.Message += ": " + e.Errors[0].Code
		}
		return e
	default:
		return fail("unknown status code", nil)
	}
}

// decodeClerkErrors decodes Clerk's error shape: an object whose errors
// array holds at least one error. Anything else (a proxy's
// {"message":"not found"}, an empty list) is not Clerk's answer.
func decodeClerkErrors(body []byte) (*gen.ClerkErrors, error) {
	var ce gen.ClerkErrors
	if err := json.Unmarshal(body, &ce); err != nil {
		return nil, err
	}
	if len(ce.Errors) == 0 {
		return nil, errors.New("no errors in the error body")
	}
	return &ce, nil
}

// clerkShaped decodes body, the answer's body cleaned, as Clerk's error
// shape when it is JSON and has that shape.
func clerkShaped(a *answer, body string) (*gen.ClerkErrors, bool) {
	if a.readErr != nil || len(a.body) > maxBodyBytes || !isJSON(a.contentType) {
		return nil, false
	}
	ce, err := decodeClerkErrors([]byte(body))
	return ce, err == nil
}

// traceID is the body's clerk_trace_id (from a body already cleaned), else
// the X-Clerk-Trace-Id header, cleaned by redact.
func traceID(a *answer, ce *gen.ClerkErrors, redact func(string) string) string {
	if ce != nil && ce.ClerkTraceID != nil && *ce.ClerkTraceID != "" {
		return *ce.ClerkTraceID
	}
	return redact(a.traceID)
}

// isJSON reports whether a Content-Type is JSON: application/json or any
// application/...+json type, in any case, parameters ignored.
func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	typ, sub, ok := strings.Cut(strings.TrimSpace(mt), "/")
	if !ok || !strings.EqualFold(typ, "application") {
		return false
	}
	return strings.EqualFold(sub, "json") ||
		(len(sub) > len("+json") && strings.EqualFold(sub[len(sub)-len("+json"):], "+json"))
}

// ClerkError is one entry of Clerk's error list: Code (such as
// resource_not_found), Message, LongMessage and Meta (such as
// {"param_name": "user_id"}). It is the generated model gen.ClerkError.
type ClerkError = gen.ClerkError

// ClerkErrors is returned for an error status that the OpenAPI document
// documents for the operation, answered with Clerk's JSON error body: an
// errors array with at least one error.
type ClerkErrors struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"status_code"`
	// Errors are Clerk's errors, most relevant first; never empty.
	Errors []ClerkError `json:"errors"`
	// Meta is the answer's meta object, if any.
	Meta map[string]any `json:"meta,omitempty"`
	// TraceID identifies the request in Clerk's logs: the body's
	// clerk_trace_id, else the X-Clerk-Trace-Id response header.
	TraceID string `json:"trace_id,omitempty"`
	// RawResponse is the HTTP response; its body was already read and
	// closed, and its Request carries no Authorization header.
	RawResponse *http.Response `json:"-"`

	method, path string
	maybeCreated bool
	credential   string // what the create makes, for the note
}

// origin names the call an error comes from, and cleans what the server
// said before it is kept in the error.
type origin struct {
	method string
	// sent is the URL of the request sent, under the server URL's basePath;
	// nil when nothing was sent, and path is the call's own.
	sent           *url.URL
	basePath, path string
	// maybeCreated is set for a create whose request left: an answer other
	// than a refusal (4XX) leaves it unknown whether a token was made.
	maybeCreated bool
	// credential is what the create makes (the operation's
	// x-creates-credential), for the note of an error (see maybeCreatedNote).
	credential string
	// redact replaces the secret key in text from outside.
	redact func(string) string
}

// where is the path an error names: the sent request's, under the server
// URL's path, or the call's own when nothing was sent. It is worked out only
// for an error.
func (o *origin) where() string {
	if o.sent != nil {
		return strings.TrimPrefix(o.sent.EscapedPath(), o.basePath)
	}
	return o.path
}

// mayHaveCreated reports whether an answer with this status leaves a create
// that was sent possibly done.
func (o *origin) mayHaveCreated(status int) bool {
	return o.maybeCreated && (status < 400 || status >= 500)
}

func newClerkErrors(a *answer, o *origin, ce *gen.ClerkErrors) *ClerkErrors {
	return &ClerkErrors{
		StatusCode:   a.rsp.StatusCode,
		Errors:       ce.Errors,
		Meta:         ce.Meta,
		TraceID:      traceID(a, ce, o.redact),
		RawResponse:  a.rsp,
		method:       o.method,
		path:         o.where(),
		maybeCreated: o.mayHaveCreated(a.rsp.StatusCode),
		credential:   o.credential,
	}
}

// Error returns one line: the operation, the status, Clerk's first error
// and the trace id.
func (e *ClerkErrors) Error() string {
	var b strings.Builder
	writePrefix(&b, e.method, e.path, e.StatusCode)
	if len(e.Errors) > 0 && e.Errors[0].Code != "" {
		b.WriteString(" " + oneLine(e.Errors[0].Code))
	}
	writeDetail(&b, e.Errors, e.TraceID)
	if e.maybeCreated {
		b.WriteString(maybeCreatedNote(e.credential))
	}
	return b.String()
}

// Is reports whether target is ErrMaybeCreated and this answer leaves a
// create possibly done.
func (e *ClerkErrors) Is(target error) bool { return e.maybeCreated && target == ErrMaybeCreated }

// HasCode reports whether any of the errors has the given Clerk error code.
func (e *ClerkErrors) HasCode(code string) bool {
	for _, ce := range e.Errors {
		if ce.Code == code {
			return true
		}
	}
	return false
}

// APIError is returned for an answer that is neither a success nor a
// documented Clerk error: an undocumented status (a 401, 429 or 5xx; a 1XX
// or 3XX, whose body is never read), an unexpected content type, a body that
// does not decode, is not Clerk's error shape or is too large, or an answer
// to another request than the one sent, or a 2XX whose token does not
// answer the call (see SignInTokensService.Create).
//
// It is returned as a *APIError: errors.As needs a *APIError target.
// A target of type APIError compiles and passes go vet, but never matches.
type APIError struct {
	// Message says what was wrong, e.g. "API error occurred", followed by
	// Clerk's first error code when the body has one.
	Message string `json:"message"`
	// StatusCode is the HTTP status of the answer.
	StatusCode int `json:"status_code"`
	// ContentType is the answer's Content-Type header.
	ContentType string `json:"content_type,omitempty"`
	// Body is the answer's body, cut at 1 MiB. It may hold a credential, so
	// it is never part of Error(), %#v or JSON.
	Body string `json:"-"`
	// RawResponse is the HTTP response; its body was already read and
	// closed, and its Request carries no Authorization header.
	RawResponse *http.Response `json:"-"`
	// RetryAfter is how long the server asked the caller to wait, from the
	// Retry-After header; 0 when it did not ask.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Errors are Clerk's errors when the body has Clerk's error shape,
	// whatever the status (a wrong key's 401, a 429, a 500); else nil.
	Errors []ClerkError `json:"errors,omitempty"`
	// TraceID identifies the request in Clerk's logs: the body's
	// clerk_trace_id, else the X-Clerk-Trace-Id response header.
	TraceID string `json:"trace_id,omitempty"`

	method, path string
	err          error
	errText      string // err's text, cleaned
	maybeCreated bool
	credential   string // what the create makes, for the note
}

func newAPIError(a *answer, o *origin, msg string, err error) *APIError {
	body := o.redact(string(a.body[:min(len(a.body), maxBodyBytes)]))
	e := &APIError{
		Message:      msg,
		StatusCode:   a.rsp.StatusCode,
		ContentType:  o.redact(a.contentType),
		Body:         body,
		RawResponse:  a.rsp,
		RetryAfter:   a.retryAfter,
		method:       o.method,
		path:         o.where(),
		err:          err,
		maybeCreated: o.mayHaveCreated(a.rsp.StatusCode),
		credential:   o.credential,
	}
	if err != nil {
		e.errText = o.redact(err.Error())
	}
	ce, ok := clerkShaped(a, body)
	if ok {
		e.Errors = ce.Errors
	}
	e.TraceID = traceID(a, ce, o.redact)
	return e
}

// Error returns one line: the operation, the status, the message, Clerk's
// first error and the trace id.
func (e APIError) Error() string {
	var b strings.Builder
	writePrefix(&b, e.method, e.path, e.StatusCode)
	b.WriteString(" " + oneLine(e.Message))
	if e.errText != "" {
		b.WriteString(": " + oneLine(e.errText))
	}
	writeDetail(&b, e.Errors, e.TraceID)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.maybeCreated {
		b.WriteString(maybeCreatedNote(e.credential))
	}
	return b.String()
}

// Is reports whether target is ErrMaybeCreated and this answer leaves a
// create possibly done.
func (e *APIError) Is(target error) bool { return e.maybeCreated && target == ErrMaybeCreated }

// Format prints the error in every verb as Error() does, and %#v as
// GoString does: Body can hold a token, and %+v of the struct or %d of its
// pointer would print it.
func (e APIError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	io.WriteString(f, e.Error())
}

// LogValue is what log/slog records: the error's one line.
func (e APIError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// GoString is what %#v prints: the fields, with Body replaced by its length,
// since a body can hold a token.
func (e APIError) GoString() string {
	code := ""
	if len(e.Errors) > 0 {
		code = e.Errors[0].Code
	}
	return fmt.Sprintf("&client.APIError{Message:%q, StatusCode:%d, ContentType:%q, Body:\"[%d bytes]\", RetryAfter:%d, "+
		"Errors:[%d, first code %q], TraceID:%q}",
		e.Message, e.StatusCode, e.ContentType, len(e.Body), e.RetryAfter, len(e.Errors), code, e.TraceID)
}

// Unwrap returns the error that caused this one, such as a JSON syntax error
// or a failed body read, or nil.
func (e *APIError) Unwrap() error { return e.err }

// writePrefix writes "clerk: POST /sign_in_tokens: 404".
func writePrefix(b *strings.Builder, method, path string, status int) {
	fmt.Fprintf(b, "clerk: %s %s: %d", method, path, status)
}

// writeDetail writes Clerk's first error message, how many more there are,
// and the trace id.
func writeDetail(b *strings.Builder, errs []ClerkError, trace string) {
	if len(errs) > 0 {
		if msg := errs[0].Message; msg != "" {
			b.WriteString(": " + oneLine(msg))
		}
		if n := len(errs) - 1; n > 0 {
			fmt.Fprintf(b, " (and %d more)", n)
		}
	}
	if trace != "" {
		b.WriteString(" (trace " + oneLine(trace) + ")")
	}
}

// oneLine keeps text from outside on one line of printable characters:
// anything else (control characters, line and paragraph separators, bidi
// overrides, invalid UTF-8) is escaped as Go would quote it, and the text is
// cut at 200 bytes.
func oneLine(s string) string {
	const limit = 200
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if !clean {
		q := strconv.Quote(s)
		s = q[1 : len(q)-1]
	}
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}

// redacted is what stands for the key in text from outside.
const redacted = "[redacted]"

// keyRedactor returns the function that replaces the secret key in text
// from outside, such as a server that echoes the Authorization it got. The
// key lives only in the closure: fmt never prints what a func holds.
func keyRedactor(secretKey string) func(string) string {
	return func(s string) string {
		if strings.Contains(s, secretKey) {
			s = strings.ReplaceAll(s, secretKey, redacted)
		}
		if strings.IndexByte(s, '\\') >= 0 {
			s = redactJSON(s, secretKey)
		}
		return s
	}
}

// redactJSON replaces the key in what s decodes to when s is JSON: a body
// can spell the key with escapes (\u0073k_...) that decoding turns back
// into it. Such a body is written anew from its redacted values; any other
// s is returned as it is.
func redactJSON(s, key string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.Decode(new(any)) != io.EOF {
		return s
	}
	v, found := redactValue(v, key)
	if !found {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return redacted
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// redactValue replaces key in the strings of a decoded JSON value, object
// keys included, and reports whether it found it.
func redactValue(v any, key string) (any, bool) {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, key) {
			return strings.ReplaceAll(v, key, redacted), true
		}
	case []any:
		found := false
		for i := range v {
			var f bool
			v[i], f = redactValue(v[i], key)
			found = found || f
		}
		return v, found
	case map[string]any:
		found := false
		out := make(map[string]any, len(v))
		for k, e := range v {
			e, f := redactValue(e, key)
			if strings.Contains(k, key) {
				k, f = strings.ReplaceAll(k, key, redacted), true
			}
			out[k], found = e, found || f
		}
		return out, found
	}
	return v, false
}

// requestError is a call that ended without an answer: a transport error,
// or the context's end. Its text is cleaned; Unwrap gives the cause, so
// that errors.Is(err, context.DeadlineExceeded) holds.
type requestError struct {
	msg          string
	err          error
	maybeCreated bool
}

// newRequestError is the error of a call that ended without an answer:
// what says why, after the call's name and what, such as "not sent: ".
func newRequestError(o *origin, what string, err error) *requestError {
	msg := fmt.Sprintf("clerk: %s %s: %s%s", o.method, o.where(), what, oneLine(o.redact(err.Error())))
	if o.maybeCreated {
		msg += maybeCreatedNote(o.credential)
	}
	return &requestError{msg: msg, err: err, maybeCreated: o.maybeCreated}
}

func (e *requestError) Error() string { return e.msg }

func (e *requestError) Unwrap() error { return e.err }

// GoString is what %#v prints: the cleaned text alone. The cause can be a
// hook's or a limiter's error value, whose fields %#v would print raw.
func (e *requestError) GoString() string { return "&client.requestError{" + strconv.Quote(e.msg) + "}" }

// Format prints the error in every verb as Error() does, and %#v as
// GoString does: %d or %+v of the struct would print the cause's fields.
func (e *requestError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	io.WriteString(f, e.Error())
}

// Is reports whether target is ErrMaybeCreated and the create's body left.
func (e *requestError) Is(target error) bool { return e.maybeCreated && target == ErrMaybeCreated }
