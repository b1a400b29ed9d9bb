package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerkgo/signintokens/gen"
)

// ErrInvalidRequest is matched, with errors.Is, by every error from an input
// check made before sending. When it matches, nothing was sent.
var ErrInvalidRequest = errors.New("clerk: invalid request")

// invalid reports a failed input check on field.
func invalid(field, rule string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidRequest, field, rule)
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
}

func newClerkErrors(a *answer, method, path string, ce *gen.ClerkErrors) *ClerkErrors {
	return &ClerkErrors{
		StatusCode:  a.rsp.StatusCode,
		Errors:      ce.Errors,
		Meta:        ce.Meta,
		TraceID:     traceID(a.rsp, ce),
		RawResponse: a.rsp,
		method:      method,
		path:        path,
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
	return b.String()
}

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
// to another request than the one sent.
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
}

func newAPIError(a *answer, method, path, msg string, err error) *APIError {
	e := &APIError{
		Message:     msg,
		StatusCode:  a.rsp.StatusCode,
		ContentType: headerValue(a.rsp.Header, "Content-Type"),
		Body:        string(a.body[:min(len(a.body), maxBodyBytes)]),
		RawResponse: a.rsp,
		RetryAfter:  a.retryAfter,
		method:      method,
		path:        path,
		err:         err,
	}
	ce, ok := clerkShaped(a)
	if ok {
		e.Errors = ce.Errors
	}
	e.TraceID = traceID(a.rsp, ce)
	return e
}

// Error returns one line: the operation, the status, the message, Clerk's
// first error and the trace id.
func (e *APIError) Error() string {
	var b strings.Builder
	writePrefix(&b, e.method, e.path, e.StatusCode)
	b.WriteString(" " + oneLine(e.Message))
	if e.err != nil {
		b.WriteString(": " + oneLine(e.err.Error()))
	}
	writeDetail(&b, e.Errors, e.TraceID)
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// GoString is what %#v prints: the fields, with Body replaced by its length,
// since a body can hold a token.
func (e *APIError) GoString() string {
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

// oneLine keeps text from the server on one line of printable characters.
func oneLine(s string) string {
	const limit = 200
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "..."
	}
	return s
}
