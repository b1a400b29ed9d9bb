package clerktest

import (
	"net/http/httptest"
	"testing"

	"github.com/clerkgo/signintokens/client"
)

// Server is a Fake listening on a loopback address, for a test.
type Server struct {
	*Fake
	// URL is the base URL to give a client, such as http://127.0.0.1:41234/v1.
	// The key requests must bear is SecretKey().
	URL string

	srv *httptest.Server
}

// NewServer starts a Fake on 127.0.0.1 and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	f := New(opts...)
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	return &Server{Fake: f, URL: srv.URL + "/v1", srv: srv}
}

// Client returns a client for the server, with its key and URL; opts are
// applied after them.
func (s *Server) Client(opts ...client.Option) *client.Client {
	c, err := client.New(append([]client.Option{client.WithSecretKey(s.SecretKey()), client.WithServerURL(s.URL)}, opts...)...)
	if err != nil {
		panic("clerktest: " + err.Error()) // the URL and key are the server's own
	}
	return c
}

// Close shuts the server down; NewServer's cleanup does it too.
func (s *Server) Close() { s.srv.Close() }
