package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/clerkgo/signintokens/gen"
)

// maxBodyBytes caps how much of an answer is read. A sign-in token answer is
// well under 2 KiB; a larger body is an error rather than something to hold.
const maxBodyBytes = 1 << 20

// traceHeader is the response header in which Clerk names the request's trace.
const traceHeader = "X-Clerk-Trace-Id"

// readBody reads at most maxBodyBytes+1 bytes of body and closes it, so that
// a body over the cap can be told apart from one exactly at it.
func readBody(body io.ReadCloser) ([]byte, error) {
	defer body.Close()
	return io.ReadAll(io.LimitReader(body, maxBodyBytes+1))
}

// isJSON reports whether a Content-Type is JSON: application/json or any
// +json type, in any case, parameters ignored.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// answer maps one HTTP answer of an operation to a SignInToken or a typed
// error, following the responses the OpenAPI document gives the operation.
//
// R is the generated response type of the operation (for example
// gen.CreateSignInTokenResponse) and parse its generated parser. The statuses
// the document defines are read off R's JSONnnn fields, so that a status
// added to the document and regenerated is mapped with no change here.
func answer[R any](op string, rsp *http.Response, parse func(*http.Response) (*R, error), now time.Time) (*SignInToken, error) {
	body, readErr := readBody(rsp.Body)
	rsp.Body = http.NoBody
	ct := rsp.Header.Get("Content-Type")
	apiErr := func(msg string, err error) *APIError {
		return &APIError{
			Message:     msg,
			StatusCode:  rsp.StatusCode,
			ContentType: ct,
			Body:        string(body[:min(len(body), maxBodyBytes)]),
			RawResponse: rsp,
			RetryAfter:  retryAfter(rsp.Header, now),
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

	field, documented := reflect.TypeFor[R]().FieldByName(fmt.Sprintf("JSON%d", rsp.StatusCode))
	switch {
	case documented && !isJSON(ct):
		return nil, apiErr("unknown content type", nil)
	case documented:
		// The generated parser tests for "json" case-sensitively; the media
		// type was already judged above, so hand it a canonical one.
		parsed, err := parse(&http.Response{
			StatusCode: rsp.StatusCode,
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(bytes.NewReader(body)),
		})
		if err != nil {
			return nil, apiErr("invalid response body", err)
		}
		switch v := reflect.ValueOf(parsed).Elem().FieldByIndex(field.Index).Interface().(type) {
		case *gen.SignInToken:
			if v == nil || v.ID == "" {
				return nil, apiErr("invalid response body", errNoID)
			}
			return (*SignInToken)(v), nil
		case *gen.ClerkErrors:
			if v != nil {
				return nil, newClerkErrors(op, rsp, v)
			}
		}
		return nil, apiErr("invalid response body", nil)
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

var errNoID = errors.New("sign-in token without an id")

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
