package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	testKey = "sk_test_0123456789abcdefSECRET"
	// tokenValue is the credential in tokenJSON; tests check it never leaks.
	tokenValue = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMzQ1In0.c2lnbmF0dXJl"
	tokenJSON  = `{"object":"sign_in_token","id":"sit_2aBcD","status":"pending","user_id":"user_12345",` +
		`"token":"` + tokenValue + `",` +
		`"url":"https://accounts.example.com/v1/tickets/accept?ticket=` + tokenValue + `",` +
		`"created_at":1609459200,"updated_at":1609459200}`
	revokedJSON = `{"object":"sign_in_token","id":"sit_2aBcD","status":"revoked","user_id":"user_12345",` +
		`"url":null,"created_at":1609459200,"updated_at":1609459300}`
	notFoundJSON = `{"errors":[{"message":"not found","long_message":"Resource not found","code":"resource_not_found"}],` +
		`"clerk_trace_id":"trace_4f2a"}`
)

// fixture is a test server that serves the API under /v1, like Clerk, so
// that a request to a wrong absolute path fails loudly.
type fixture struct {
	mux    *http.ServeMux
	server *httptest.Server
	hits   atomic.Int32
	waits  *waits
}

// waits records the retry waits the client asked for, without waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// testClock is a frozen clock whose jitter is always the largest.
func testClock(w *waits) clock {
	frozen := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	return clock{
		now:    func() time.Time { return frozen },
		sleep:  w.sleep,
		jitter: func(d time.Duration) time.Duration { return d },
	}
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), waits: &waits{}}
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to unexpected path %s %s", r.Method, r.URL.Path)
		http.Error(w, "unexpected path", http.StatusTeapot)
	})
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.server.Close)
	return f
}

// client returns a client for the fixture's /v1 base URL; opts come last so
// they can override the defaults.
func (f *fixture) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithSecretKey(testKey),
		WithServerURL(f.server.URL + "/v1"),
		withClock(testClock(f.waits)),
	}
	c, err := New(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// reply answers every request to pattern with a fixed status, content type
// and body.
func (f *fixture) reply(pattern string, status int, contentType, body string) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
		if contentType == "" {
			w.Header()["Content-Type"] = nil // no header, and no sniffing
		} else {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
}

func ptr[T any](v T) *T { return &v }

// newResponse is an answer as the generated client hands it over.
func newResponse(status int, contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// discardLog silences a test server's error log (TLS handshake failures).
func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) {
	code := m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testOrigin names a call for mapAnswer in tests, as call would.
func testOrigin(method, path string) *origin {
	return &origin{method: method, path: path, redact: keyRedactor(testKey)}
}

// ownClient is an *http.Client over a transport of the test's own. Go's
// default transport is shared by every test in the package, and each
// httptest.Server.Close closes its idle connections, which can break a
// request another test is just sending on one.
func ownClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// tokenFor is a sign-in token that answers r as Clerk would: for the user a
// create asked for, or the token a revoke named, revoked.
func tokenFor(r *http.Request) string {
	id, fixture := r.PathValue("id"), tokenJSON
	if id != "" {
		fixture = revokedJSON
	}
	var tok map[string]any
	if err := json.Unmarshal([]byte(fixture), &tok); err != nil {
		panic(err)
	}
	if id != "" {
		tok["id"] = id
	} else {
		var body struct {
			UserID string `json:"user_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		tok["user_id"] = body.UserID
	}
	b, err := json.Marshal(tok)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// answerFor answers r with tokenFor(r).
func answerFor(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, tokenFor(r))
}
