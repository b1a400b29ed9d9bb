package client

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// thief is a server on another origin that a redirect points at. It counts
// what reaches it and answers like Clerk would, so that an answer taken from
// it would look like a created token.
type thief struct {
	server   *httptest.Server
	requests atomic.Int32
	keys     atomic.Int32
}

func newThief(t *testing.T) *thief {
	t.Helper()
	th := &thief{}
	th.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		th.requests.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), testKey) {
			th.keys.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(tokenJSON))
	}))
	t.Cleanup(th.server.Close)
	return th
}

// redirectTo answers every request with status and a Location on target,
// whose query stands for something that must never be printed.
func redirectTo(status int, target func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", target()+"/v1/sign_in_tokens?ticket=LOCATIONSECRET")
		w.WriteHeader(status)
	}
}

// dialLoopback dials 127.0.0.1 whatever host name is asked for, keeping the
// port: it stands in for DNS, so that api.clerk.test and
// evil.api.clerk.test are two origins served on this machine.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// The user's own *http.Client follows redirects and, for the same host name
// or a subdomain, sends Authorization along whatever the port or scheme. The
// SDK never follows one: the 3XX is the answer and the thief sees nothing.
// checkRedirectRefused serves a redirect with code from the origin start
// makes, to a thief, and checks that neither a create nor a revoke reaches it.
func checkRedirectRefused(t *testing.T, code int, start func(*testing.T, http.Handler, *thief) (string, *http.Client, string, []Option)) {
	th := newThief(t)
	var target string
	base, hc, thiefURL, opts := start(t, redirectTo(code, func() string { return target }), th)
	target = thiefURL
	opts = append(opts, WithSecretKey(testKey), WithServerURL(base+"/v1"), WithRetryPolicy(RetryPolicy{}))
	if hc != nil {
		opts = append(opts, WithHTTPClient(hc))
	}
	c, err := New(opts...)
	require.NoError(t, err)

	_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	assertRedirectRefused(t, err, code)
	_, err = c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")
	assertRedirectRefused(t, err, code)
	assert.Zero(t, th.keys.Load(), "requests to the other origin carrying the key")
	assert.Zero(t, th.requests.Load(), "requests to the other origin")
}

func TestClient_neverFollowsRedirects(t *testing.T) {
	t.Parallel()
	origins := []struct {
		name string
		// start serves h as the configured server and returns its base
		// URL, the user's *http.Client (nil: the default one), where the
		// thief is reached, and any option the origin needs.
		start func(t *testing.T, h http.Handler, th *thief) (string, *http.Client, string, []Option)
	}{
		{"another port", func(t *testing.T, h http.Handler, th *thief) (string, *http.Client, string, []Option) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			return srv.URL, ownClient(t), th.server.URL, nil
		}},
		{"another host, the default client", func(t *testing.T, h http.Handler, th *thief) (string, *http.Client, string, []Option) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			// localhost and 127.0.0.1 are different hosts to Go's client.
			return srv.URL, nil, strings.Replace(th.server.URL, "127.0.0.1", "localhost", 1), nil
		}},
		{"https to http", func(t *testing.T, h http.Handler, th *thief) (string, *http.Client, string, []Option) {
			srv := httptest.NewUnstartedServer(h)
			srv.Config.ErrorLog = discardLog()
			srv.StartTLS()
			t.Cleanup(srv.Close)
			return srv.URL, srv.Client(), th.server.URL, nil
		}},
		{"subdomain", func(t *testing.T, h http.Handler, th *thief) (string, *http.Client, string, []Option) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			tr := &http.Transport{DialContext: dialLoopback}
			t.Cleanup(tr.CloseIdleConnections)
			port := func(u string) string { return u[strings.LastIndex(u, ":"):] }
			return "http://api.clerk.test" + port(srv.URL), &http.Client{Transport: tr},
				"http://evil.api.clerk.test" + port(th.server.URL), []Option{WithInsecureHTTP()}
		}},
	}
	for _, origin := range origins {
		for _, code := range []int{301, 302, 303, 307, 308} {
			t.Run(fmt.Sprintf("%s %d", origin.name, code), func(t *testing.T) {
				t.Parallel()
				checkRedirectRefused(t, code, origin.start)
			})
		}
	}
}

func assertRedirectRefused(t *testing.T, err error, code int) {
	t.Helper()
	var ae *APIError
	require.ErrorAs(t, err, &ae, "got %v", err)
	assert.Equal(t, code, ae.StatusCode)
	assert.Equal(t, "unknown status code", ae.Message)
	assert.Empty(t, ae.Body, "a redirect's body is never read")
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assert.NotContains(t, s, "LOCATIONSECRET")
	}
	assertNoSecrets(t, err)
}

// A 301, 302 or 303 to the same host turns a POST into a GET without a body.
// A 200 to that GET is not an answer to the create, with the default client
// or the user's own.
func TestClient_postNeverBecomesGet(t *testing.T) {
	t.Parallel()
	for _, code := range []int{301, 302, 303} {
		for _, own := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d own client %t", code, own), func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				var gets atomic.Int32
				f.mux.HandleFunc(createPattern, redirectTo(code, func() string { return f.server.URL + "/moved" }))
				f.mux.HandleFunc("/moved/v1/sign_in_tokens", func(w http.ResponseWriter, _ *http.Request) {
					gets.Add(1)
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(tokenJSON))
				})
				var opts []Option
				if own {
					opts = append(opts, WithHTTPClient(ownClient(t)))
				}
				_, err := f.client(t, opts...).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
				assertRedirectRefused(t, err, code)
				assert.Zero(t, gets.Load())
			})
		}
	}
}

// followingDoer is an HTTPDoer that is not an *http.Client and follows
// redirects itself, as a user's wrapper might.
type followingDoer struct{ hc *http.Client }

func (d followingDoer) Do(req *http.Request) (*http.Response, error) { return d.hc.Do(req) }

// The SDK cannot stop a doer that is not an *http.Client from following a
// redirect, but it never takes the answer to another method as the answer
// to its own, and a create's body can be sent only once: the doer cannot
// follow a 307, which would send the body again (no GetBody), and answers
// with the 307 itself. Either way the key and the ticket stay out of the
// error, and a create that may have happened says so.
func TestClient_answerToAnotherRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, status int
		message      string
		thiefSaw     int32
	}{
		{302, 200, "answer to another request than the one sent", 1}, // POST turned into GET
		{307, 307, "unknown status code", 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			t.Parallel()
			th := newThief(t)
			f := setup(t)
			f.mux.HandleFunc(createPattern, redirectTo(tt.code, func() string { return th.server.URL }))
			c := f.client(t, WithHTTPClient(followingDoer{ownClient(t)}), WithRetryPolicy(RetryPolicy{}))
			res, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			assert.Nil(t, res)
			var ae *APIError
			require.ErrorAs(t, err, &ae, "got %v", err)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.Equal(t, tt.message, ae.Message)
			assert.ErrorIs(t, err, ErrMaybeCreated)
			assert.Equal(t, tt.thiefSaw, th.requests.Load())
			assert.NotContains(t, err.Error(), "LOCATIONSECRET")
			assertNoSecrets(t, err)
		})
	}
}

// routingDoer stands for a mesh or egress gateway: it sends the request to
// where it routes it and answers with its own request, as such transports
// set Response.Request.
type routingDoer struct {
	to string
	tr http.RoundTripper
}

func (d routingDoer) Do(req *http.Request) (*http.Response, error) {
	routed := req.Clone(req.Context())
	u, err := url.Parse(d.to)
	if err != nil {
		return nil, err
	}
	routed.URL.Scheme, routed.URL.Host, routed.Host = u.Scheme, u.Host, ""
	return d.tr.RoundTrip(routed)
}

// An answer to a request the doer routed elsewhere, with the same method,
// is the answer: the token it carries was made, and dropping it would lose it.
func TestClient_takesAnswerOfRoutingDoer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.reply(createPattern, 200, "application/json", tokenJSON)
	c := f.client(t, WithServerURL("https://api.clerk.test/v1"), WithHTTPClient(routingDoer{f.server.URL, ownClient(t).Transport}))
	res, err := c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.NoError(t, err)
	require.NotNil(t, res.SignInToken)
	assert.NotEmpty(t, res.SignInToken.ID)
	assert.Equal(t, "api.clerk.test", res.RawResponse.Request.URL.Host, "the kept request is the one the SDK sent")
	assert.Empty(t, res.RawResponse.Request.Header.Get("Authorization"))
}

// A 3XX whose Location does not parse is the answer as any 3XX is: its
// status kept, and neither the Location nor its ticket in the error, with
// the default client and with the user's own. (http.Client.Do parses the
// Location before it asks CheckRedirect.)
func TestClient_malformedLocation(t *testing.T) {
	t.Parallel()
	for name, doer := range map[string]HTTPDoer{"default client": nil, "user's client": ownClient(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(createPattern, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", "/steal%zz?ticket=LOCATIONSECRET")
				w.WriteHeader(http.StatusFound)
			})
			opts := []Option{WithRetryPolicy(RetryPolicy{})}
			if doer != nil {
				opts = append(opts, WithHTTPClient(doer))
			}
			_, err := f.client(t, opts...).SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
			var ae *APIError
			require.ErrorAs(t, err, &ae, "got %T %v", err, err)
			assert.Equal(t, http.StatusFound, ae.StatusCode)
			assert.Equal(t, "unknown status code", ae.Message)
			assert.NotContains(t, err.Error(), "LOCATIONSECRET")
			assert.NotContains(t, fmt.Sprintf("%+v", *ae), "LOCATIONSECRET")
		})
	}
}

// A proxy's refusal of CONNECT reaches the error through net/http's own
// text; it is one printable line there.
func TestClient_proxyRefusalIsOneLine(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = http.ReadRequest(bufio.NewReader(conn))
				_, _ = io.WriteString(conn, "HTTP/1.1 403 no\u2028entry \u202eevil\x1b[2J\r\nContent-Length: 0\r\n\r\n")
			}()
		}
	}()
	proxy := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
	c, err := New(WithSecretKey(testKey), WithServerURL("https://api.clerk.test/v1"), WithHTTPClient(hc), WithRetryPolicy(RetryPolicy{}))
	require.NoError(t, err)
	_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `\u202eevil`, "net/http put the proxy's text in its error")
	for _, r := range err.Error() {
		assert.True(t, unicode.IsPrint(r), "%q in %q", r, err.Error())
	}
}
