package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/clerkgo/signintokens/gen"
)

// traceHeader is the response header in which Clerk names the request's trace.
const traceHeader = "X-Clerk-Trace-Id"

// mapAnswer maps the final answer of a call to its success model, decoded
// into dst, or to a typed error, following the bodies the document gives
// each status (see operation). valid rejects a success body that cannot be
// used; o names the call in errors and cleans what they keep.
//
// The generated parser is not used: it reads bodies without a bound, matches
// content types case-sensitively and drops the status code when a body does
// not decode.
func mapAnswer[T any](bodies map[int]bodyKind, valid func(*T) error, a *answer, o *origin, dst *T) error {
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
	case documented && !isJSON(headerValue(a.rsp.Header, "Content-Type")):
		return fail("unknown content type", nil)
	case documented && kind == successBody:
		if err := json.Unmarshal(a.body, dst); err != nil {
			return fail("invalid response body", err)
		}
		if err := valid(dst); err != nil {
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
	if a.readErr != nil || len(a.body) > maxBodyBytes || !isJSON(headerValue(a.rsp.Header, "Content-Type")) {
		return nil, false
	}
	ce, err := decodeClerkErrors([]byte(body))
	return ce, err == nil
}

// traceID is the body's clerk_trace_id (from a body already cleaned), else
// the X-Clerk-Trace-Id header, cleaned by redact.
func traceID(rsp *http.Response, ce *gen.ClerkErrors, redact func(string) string) string {
	if ce != nil && ce.ClerkTraceID != nil && *ce.ClerkTraceID != "" {
		return *ce.ClerkTraceID
	}
	return redact(headerValue(rsp.Header, traceHeader))
}

// headerValue is the first value of a header whose key is in canonical
// form, as http.Header.Get returns it without canonicalizing the key again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
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
