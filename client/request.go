package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/clerkgo/signintokens"
)

// newRequest builds op's request for in, for one attempt's ctx, with the
// generated builder, and sets the headers every call carries (see
// headerSetter). Each attempt builds its own, so nothing has to be
// rewound. The secret key goes in Authorization on the request itself; it
// never reaches another origin because no redirect is followed (see
// noRedirects).
//
// The body of an operation that must not be sent twice, a create, is a
// sentBody: the transport cannot rewind it (no GetBody), so neither Go's
// HTTP/2 transport, which resends a rewindable request after a stream
// reset, nor any doer can replay it; and it counts what the transport read,
// the evidence that the request was not sent.
func newRequest[I, T any](ctx context.Context, c *caller, op *operation[I, T], in I) (*http.Request, *sentBody, error) {
	req, err := op.build(ctx, c.server, in)
	if err != nil {
		return nil, nil, fmt.Errorf("building the request: %w", err)
	}
	buf := new(requestBuf)
	c.setHeaders(req, &buf.values)
	if op.idempotent || req.Body == nil || req.Body == http.NoBody {
		return req, nil, nil
	}
	buf.body.r = req.Body
	req.Body, req.GetBody = &buf.body, nil
	return req, &buf.body, nil
}

// requestBuf is what one request adds to the generated one, in one
// allocation: its four header values and, for a create, its sentBody.
type requestBuf struct {
	values [4]string
	body   sentBody
}

// headerSetter returns the function that sets the headers of every
// request, its values in v: the key, the media type, the API version and
// the User-Agent. The key lives only in this closure: fmt never prints
// what a func holds.
func headerSetter(secretKey, userAgent string) func(req *http.Request, v *[4]string) {
	values := [4]string{"Bearer " + secretKey, "application/json", signintokens.APIVersion, userAgent}
	return func(req *http.Request, v *[4]string) {
		// The keys are in canonical form.
		*v = values
		req.Header["Authorization"] = v[0:1:1]
		req.Header["Accept"] = v[1:2:2]
		req.Header["Clerk-Api-Version"] = v[2:3:3]
		req.Header["User-Agent"] = v[3:4:4]
	}
}

// keptHeaders are the headers of the request a response or an error keeps:
// those the SDK sends, without Authorization. One client's responses share
// them; they are read-only.
type keptHeaders struct{ plain, json http.Header }

func newKeptHeaders(userAgent string) keptHeaders {
	plain := http.Header{
		"Accept":            {"application/json"},
		"Clerk-Api-Version": {signintokens.APIVersion},
		"User-Agent":        {userAgent},
	}
	json := plain.Clone()
	json["Content-Type"] = []string{"application/json"}
	return keptHeaders{plain, json}
}

// keep makes dst the request a response or an error keeps: a copy of the
// one sent, with the headers the SDK set but Authorization, so that
// printing it never prints the key. The sent request is the doer's and is
// left as it was: a doer may hold on to it (a recording doer in a test, an
// audit log).
func (h keptHeaders) keep(dst, sent *http.Request) *http.Request {
	*dst = *sent
	dst.Header = h.plain
	if _, ok := sent.Header["Content-Type"]; ok {
		dst.Header = h.json
	}
	dst.Body, dst.GetBody = http.NoBody, nil
	return dst
}

// sentBody is a create's request body. It counts the bytes the transport
// has read; seal stops any further read and returns the count, so that a
// count of 0 proves that no byte of the body left, whatever the doer did
// and whatever error it returned.
type sentBody struct {
	mu     sync.Mutex
	r      io.ReadCloser
	n      int64
	sealed bool
}

func (b *sentBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sealed {
		return 0, errBodySealed
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *sentBody) Close() error { return b.r.Close() }

// seal ends reading and reports how many bytes were read.
func (b *sentBody) seal() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sealed = true
	return b.n
}

// errBodySealed is what a transport reads from a create's body after the
// attempt ended.
var errBodySealed = errors.New("clerk: the request's attempt has ended")

// refuseRedirects is the CheckRedirect of every *http.Client the SDK uses:
// the 3XX is the answer. Go's client keeps Authorization on a redirect to
// the same host name on another port or scheme and to its subdomains, and
// turns a POST into a GET on 301, 302 and 303; Clerk never redirects.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// noRedirects returns a doer that does not follow redirects: for an
// *http.Client, a shallow copy with refuseRedirects over a transport that
// drops the Location header of a 3XX, which shares the caller's transport
// and its connections. http.Client.Do parses a 3XX's Location before it asks
// CheckRedirect, and fails on one that does not parse, losing the status and
// quoting the Location (a ticket in its query) in the error; without a
// Location it returns the 3XX as it is. Any other doer is returned as it is.
func noRedirects(doer HTTPDoer) HTTPDoer {
	hc, ok := doer.(*http.Client)
	if !ok {
		return doer
	}
	c := *hc
	c.CheckRedirect = refuseRedirects
	c.Transport = noLocation{orDefault(hc.Transport)}
	return &c
}

// orDefault is what an http.Client uses for a nil Transport.
func orDefault(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// noLocation is a transport that removes Location from every 3XX answer.
type noLocation struct{ next http.RoundTripper }

func (t noLocation) RoundTrip(req *http.Request) (*http.Response, error) {
	rsp, err := t.next.RoundTrip(req)
	if err == nil && rsp != nil && rsp.StatusCode >= 300 && rsp.StatusCode < 400 {
		delete(rsp.Header, "Location")
	}
	return rsp, err
}

// CloseIdleConnections closes the idle connections of the transport below.
func (t noLocation) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
