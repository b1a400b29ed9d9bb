package clerktest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/clerkgo/signintokens/client"
)

// Server is a Fake listening on a loopback address, or on an in-memory
// network (WithInMemoryNetwork), for a test.
type Server struct {
	*Fake
	// URL is the base URL to give a client, such as http://127.0.0.1:41234/v1.
	// The key requests must bear is SecretKey().
	URL string

	srv *httptest.Server
	hc  *http.Client // what reaches srv: over loopback, or the in-memory network
}

// NewServer starts a Fake on 127.0.0.1, or on an in-memory network with
// WithInMemoryNetwork, and closes it when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := StartServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// StartServer starts a Fake as NewServer does, outside a test: the caller
// closes it.
func StartServer(opts ...Option) *Server {
	f := New(opts...)
	if !f.inMemory {
		srv := httptest.NewServer(f)
		return &Server{Fake: f, URL: srv.URL + "/v1", srv: srv, hc: srv.Client()}
	}
	ln := newPipeListener()
	srv := httptest.NewUnstartedServer(f)
	srv.Listener = ln
	srv.Start()
	return &Server{Fake: f, URL: srv.URL + "/v1", srv: srv, hc: &http.Client{Transport: &http.Transport{DialContext: ln.dial}}}
}

// Client returns a client for the server, with its key and URL (and, with
// WithInMemoryNetwork, an HTTP client over the in-memory network); opts are
// applied after them.
func (s *Server) Client(opts ...client.Option) *client.Client {
	base := []client.Option{client.WithSecretKey(s.SecretKey()), client.WithServerURL(s.URL)}
	if s.inMemory {
		base = append(base, client.WithHTTPClient(s.hc))
	}
	c, err := client.New(append(base, opts...)...)
	if err != nil {
		panic("clerktest: " + err.Error()) // the URL and key are the server's own
	}
	return c
}

// HTTPClient returns an *http.Client that reaches the server: over the
// in-memory network with WithInMemoryNetwork.
func (s *Server) HTTPClient() *http.Client { return s.hc }

// Close shuts the server down; NewServer's cleanup does it too.
func (s *Server) Close() {
	s.srv.Close()
	s.hc.CloseIdleConnections()
}

// pipeAddr is the in-memory network's address: a loopback one, so that a
// client takes its plain http URL, though nothing listens there.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}

// pipeListener is an in-memory network: each dial is one end of a
// net.Pipe, whose other end Accept returns. Its reads and writes block on
// channels, which testing/synctest sees as durably blocked, so fake time
// advances while a call waits on the fake (it does not on a loopback socket
// on Go 1.26).
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr }

// dial connects to the listener, whatever the address.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, net.ErrClosed
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, ctx.Err()
	}
}
