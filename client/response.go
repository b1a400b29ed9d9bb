package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/clerkgo/signintokens/gen"
)

// maxBodyBytes caps how much of an answer is read. A sign-in token answer is
// well under 2 KiB; a larger body is an error rather than something to hold.
const maxBodyBytes = 1 << 20

// traceHeader is the response header in which Clerk names the request's trace.
const traceHeader = "X-Clerk-Trace-Id"

// readBody reads at most maxBodyBytes+1 bytes of a response body and closes
// it, so that a body over the cap can be told apart from one exactly at it.
// A body the sender already read is not read again.
func readBody(rsp *http.Response) ([]byte, error) {
	defer rsp.Body.Close()
	if b, ok := rsp.Body.(*bufferedBody); ok {
		return b.data, b.err
	}
	// Size the buffer from Content-Length, plus one byte so that io.EOF
	// arrives without a second allocation.
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

// answer maps one HTTP answer of an operation to its success body T (a
// generated model, such as gen.SignInToken) or a typed error, following the
// responses the OpenAPI document gives the operation.
//
// R is the generated response type of the operation, such as
// gen.CreateSignInTokenResponse: its JSONnnn fields say which statuses the
// document defines and which type each one's body has, so that a status
// added to the document and regenerated is mapped with no change here. The
// generated parser itself is not used: it reads bodies without a bound and
// matches content types case-sensitively. check rejects a success body that
// decodes but cannot be used, such as a token without an ID.
//
// err is what the generated client returned with rsp: a transport error is
// returned wrapped, so that errors.Is still sees context errors.
func answer[R, T any](op string, rsp *http.Response, err error, now time.Time, check func(*T) error) (*T, error) {
	if err != nil {
		return nil, fmt.Errorf("clerk: %s: %w", op, err)
	}
	body, readErr := readBody(rsp)
	rsp.Body = http.NoBody
	ct := rsp.Header.Get("Content-Type")
	wait, _ := retryAfterValue(rsp.Header, now)
	apiErr := func(msg string, err error) *APIError {
		return &APIError{
			Message:     msg,
			StatusCode:  rsp.StatusCode,
			ContentType: ct,
			Body:        string(body[:min(len(body), maxBodyBytes)]),
			RawResponse: rsp,
			RetryAfter:  wait,
			op:          op,
			err:         err,
		}
	}
	switch {
	case readErr != nil:
		return nil, apiErr("reading response body", readErr)
	case len(body) > maxBodyBytes:
		return nil, apiErr(fmt.Sprintf("response body over %d bytes", maxBodyBytes), nil)
	}

	field, documented := jsonField(reflect.TypeFor[R](), rsp.StatusCode)
	switch {
	case documented && !isJSON(ct):
		return nil, apiErr("unknown content type", nil)
	case documented:
		dest := reflect.New(field.Type.Elem())
		if err := json.Unmarshal(body, dest.Interface()); err != nil {
			return nil, apiErr("invalid response body", err)
		}
		switch v := dest.Interface().(type) {
		case *T:
			if err := check(v); err != nil {
				return nil, apiErr("invalid response body", err)
			}
			return v, nil
		case *gen.ClerkErrors:
			return nil, newClerkErrors(op, rsp, v)
		}
		return nil, apiErr("unexpected response schema", nil)
	case rsp.StatusCode >= 400 && rsp.StatusCode < 600:
		msg := "API error occurred"
		var ce gen.ClerkErrors
		if isJSON(ct) && json.Unmarshal(body, &ce) == nil && len(ce.Errors) > 0 && ce.Errors[0].Code != "" {
			msg += ": " + ce.Errors[0].Code
		}
		return nil, apiErr(msg, nil)
	default:
		return nil, apiErr("unknown status code", nil)
	}
}

// jsonField finds the field JSON<status> of a generated response type: the
// body the document defines for that status.
func jsonField(t reflect.Type, status int) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n, ok := strings.CutPrefix(f.Name, "JSON"); ok && f.Type.Kind() == reflect.Pointer {
			if code, err := strconv.Atoi(n); err == nil && code == status {
				return f, true
			}
		}
	}
	return reflect.StructField{}, false
}

// hasID rejects a sign-in token without an ID.
func hasID(t *gen.SignInToken) error {
	if t.ID == "" {
		return errors.New("sign-in token without an id")
	}
	return nil
}

func newClerkErrors(op string, rsp *http.Response, v *gen.ClerkErrors) *ClerkErrors {
	e := &ClerkErrors{
		StatusCode:  rsp.StatusCode,
		Errors:      v.Errors,
		Meta:        v.Meta,
		TraceID:     rsp.Header.Get(traceHeader),
		RawResponse: rsp,
		op:          op,
	}
	if v.ClerkTraceID != nil && *v.ClerkTraceID != "" {
		e.TraceID = *v.ClerkTraceID
	}
	return e
}
