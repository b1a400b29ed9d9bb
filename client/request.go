package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/clerkgo/signintokens"
)

// newRequest builds op's request for in, for one attempt's ctx, with the
// generated builder, and sets the headers every call carries (see
// headerSetter). Each attempt builds its own, so nothing has to be
// rewound. The secret key goes in Authorization on the request itself; it
// never reaches another origin because no redirect is followed (see
// noRedirects).
func newRequest[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (*http.Request, error) {
	req, err := op.build(ctx, c.server, in)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	c.setHeaders(req)
	return req, nil
}

// headerSetter returns the function that sets the headers of every
// request: the key, the media type, the API version and the User-Agent.
func headerSetter(secretKey, userAgent string) func(*http.Request) {
	values := [4]string{"Bearer " + secretKey, "application/json", signintokens.APIVersion, userAgent}
	return func(req *http.Request) {
		// The keys are in canonical form, and the four values share one
		// allocation per request.
		v := new([4]string)
		*v = values
		req.Header["Authorization"] = v[0:1:1]
		req.Header["Accept"] = v[1:2:2]
		req.Header["Clerk-Api-Version"] = v[2:3:3]
		req.Header["User-Agent"] = v[3:4:4]
	}
}

// forgetKey removes the secret key from a request that was sent and whose
// response body is closed, before the request is kept in a response or an
// error: printing it then never prints the key. net/http allows changing a
// request once the body of its response is closed, and attempt has closed
// it; nothing sends this request again, since each attempt builds its own.
func forgetKey(req *http.Request) *http.Request {
	if v := req.Header["Authorization"]; len(v) > 0 {
		v[0] = "" // the value is gone from the shared array too (see headerSetter)
	}
	delete(req.Header, "Authorization")
	return req
}

// refuseRedirects is the CheckRedirect of every *http.Client the SDK uses:
// the 3XX is the answer. Go's client keeps Authorization on a redirect to
// the same host name on another port or scheme and to its subdomains, and
// turns a POST into a GET on 301, 302 and 303; Clerk never redirects.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// noRedirects returns a doer that does not follow redirects: for an
// *http.Client, a shallow copy with refuseRedirects, which shares the
// caller's transport and its connections. Any other doer is returned as it
// is; attempt rejects an answer to a request other than the one sent.
func noRedirects(doer HTTPDoer) HTTPDoer {
	hc, ok := doer.(*http.Client)
	if !ok {
		return doer
	}
	c := *hc
	c.CheckRedirect = refuseRedirects
	return &c
}
