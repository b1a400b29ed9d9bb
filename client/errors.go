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

// ClerkError is one entry of a ClerkErrors answer.
type ClerkError = gen.ClerkError

// ClerkErrors is returned for an error status that the OpenAPI document
// documents for the operation, answered with a JSON body.
type ClerkErrors struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Errors are Clerk's errors, most relevant first.
	Errors []ClerkError
	// Meta is the answer's meta object, if any.
	Meta map[string]any
	// TraceID identifies the request in Clerk's logs: the body's
	// clerk_trace_id, else the X-Clerk-Trace-Id response header.
	TraceID string
	// RawResponse is the HTTP response; its body was already read and closed.
	RawResponse *http.Response

	op string
}

// Error returns one line: the operation, the status, and Clerk's first error.
func (e *ClerkErrors) Error() string {
	var b strings.Builder
	b.WriteString(prefix(e.op))
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if len(e.Errors) > 0 {
		first := e.Errors[0]
		if first.Code != "" {
			b.WriteString(" " + oneLine(first.Code))
		}
		if first.Message != "" {
			b.WriteString(": " + oneLine(first.Message))
		}
		if n := len(e.Errors) - 1; n > 0 {
			fmt.Fprintf(&b, " (and %d more)", n)
		}
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + oneLine(e.TraceID) + ")")
	}
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
// documented Clerk error: an undocumented status, an unexpected content type,
// a body that does not decode or is too large.
type APIError struct {
	// Message says what was wrong, e.g. "API error occurred".
	Message string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// ContentType is the answer's Content-Type header.
	ContentType string
	// Body is the answer's body, cut at 1 MiB. It may hold a credential, so
	// it is never part of Error().
	Body string
	// RawResponse is the HTTP response; its body was already read and closed.
	RawResponse *http.Response
	// RetryAfter is how long the server asked the caller to wait, from the
	// Retry-After header; 0 when it did not ask.
	RetryAfter time.Duration

	op  string
	err error
}

// Error returns one line: the operation, the status and the message.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%s%d %s", prefix(e.op), e.StatusCode, oneLine(e.Message))
	if e.err != nil {
		s += ": " + oneLine(e.err.Error())
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// GoString is what %#v prints: the fields, with Body replaced by its length,
// since a body can hold a token.
func (e *APIError) GoString() string {
	return fmt.Sprintf("&client.APIError{Message:%q, StatusCode:%d, ContentType:%q, Body:\"[%d bytes]\", RetryAfter:%d}",
		e.Message, e.StatusCode, e.ContentType, len(e.Body), e.RetryAfter)
}

// Unwrap returns the error that caused this one, such as a JSON syntax error
// or a failed body read, or nil.
func (e *APIError) Unwrap() error { return e.err }

func prefix(op string) string {
	if op == "" {
		return "clerk: "
	}
	return "clerk: " + op + ": "
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
