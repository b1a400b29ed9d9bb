package client

import (
	"fmt"
	"net/http"

	"github.com/clerkgo/signintokens"
)

// newRequest builds op's request for in with the generated builder and sets
// the headers every call carries (see headerSetter). The secret key goes in Authorization on
// the request itself; it never reaches another origin because no redirect
// is followed (see noRedirects).
func newRequest[I, T any](c *caller, op *operation[I, T], in I) (*http.Request, error) {
	req, err := op.build(c.server, in)
	if err != nil {
		return nil, fmt.Errorf("clerk: building the request: %w", err)
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

// rewind gives a request that is sent again a fresh body.
func rewind(req *http.Request) error {
	if req.GetBody == nil {
		return nil
	}
	body, err := req.GetBody()
	if err != nil {
		return fmt.Errorf("rewinding the request body: %w", err)
	}
	req.Body = body
	return nil
}

// publicRequest is the request kept in a response or an error: a copy
// without the Authorization header, so that printing it never prints the
// key.
func publicRequest(req *http.Request) *http.Request {
	r := *req
	r.Header = req.Header.Clone()
	delete(r.Header, "Authorization")
	return &r
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
