package client

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens"
	"github.com/clerkgo/signintokens/gen"
)

// The benchmarks compare the SDK with the call a careful person would write
// by hand with net/http and encoding/json (the raw functions below): that
// call is the floor, and the difference is what the SDK costs. Sub-benchmarks
// are named impl=raw and impl=client so that `benchstat -col /impl` puts
// them side by side.

const benchServer = "https://api.clerk.com/v1"

// memoryTransport answers every request in memory with one fixed answer.
type memoryTransport struct {
	status int
	body   []byte
}

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    m.status,
		Header:        http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(m.body)),
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		Request:       req,
	}, nil
}

// rawError is the hand-written call's error for a Clerk error answer.
type rawError struct {
	status int
	body   gen.ClerkErrors
}

func (e *rawError) Error() string { return fmt.Sprintf("clerk: %d", e.status) }

// rawUserAgent is the User-Agent the SDK sends, so that the raw call sends
// the same headers.
var rawUserAgent = "signintokens-go/" + Version + " (" + runtime.Version() + ")"

// rawCall is the hand-written call: build the request, send it, check the
// status and content type, decode the body.
func rawCall(ctx context.Context, hc *http.Client, method, u string, body any) (*gen.SignInToken, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Clerk-Api-Version", signintokens.APIVersion)
	req.Header.Set("User-Agent", rawUserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rsp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(rsp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("clerk: %d: unexpected content type", rsp.StatusCode)
	}
	dec := json.NewDecoder(io.LimitReader(rsp.Body, maxBodyBytes))
	if rsp.StatusCode != http.StatusOK {
		e := &rawError{status: rsp.StatusCode}
		if err := dec.Decode(&e.body); err != nil {
			return nil, err
		}
		return nil, e
	}
	var tok gen.SignInToken
	if err := dec.Decode(&tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

func rawCreate(ctx context.Context, hc *http.Client, server string) (*gen.SignInToken, error) {
	body := struct {
		UserID string `json:"user_id"`
	}{"user_12345"}
	return rawCall(ctx, hc, http.MethodPost, server+"/sign_in_tokens", body)
}

func rawRevoke(ctx context.Context, hc *http.Client, server string) (*gen.SignInToken, error) {
	return rawCall(ctx, hc, http.MethodPost, server+"/sign_in_tokens/"+url.PathEscape("sit_2aBcD")+"/revoke", nil)
}

func sdkCreate(ctx context.Context, c *Client) error {
	_, err := c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
	return err
}

func sdkRevoke(ctx context.Context, c *Client) error {
	_, err := c.SignInTokens.Revoke(ctx, "sit_2aBcD")
	return err
}

// benchClient is a client of server over hc; nil hc: the default HTTP client.
func benchClient(b *testing.B, server string, hc *http.Client, opts ...Option) *Client {
	base := []Option{WithSecretKey(testKey), WithServerURL(server)}
	if hc != nil {
		base = append(base, WithHTTPClient(hc))
	}
	c, err := New(append(base, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchPair runs the raw call and the SDK's over the same HTTP client.
func benchPair(b *testing.B, server string, hc *http.Client, wantErr bool,
	raw func(context.Context, *http.Client, string) (*gen.SignInToken, error), sdk func(context.Context, *Client) error) {
	ctx := context.Background()
	check := func(err error) {
		if (err != nil) != wantErr {
			b.Fatalf("error %v, want error: %v", err, wantErr)
		}
	}
	inTurn(b, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := raw(ctx, hc, server)
			check(err)
		}
	}, func(b *testing.B) {
		b.Run("impl=client", func(b *testing.B) {
			c := benchClient(b, server, hc)
			b.ReportAllocs()
			for b.Loop() {
				check(sdk(ctx, c))
			}
		})
	})
}

// clientFirst runs the SDK's sub-benchmarks before impl=raw. make
// bench-rounds sets it in every other round, so that what the order itself
// costs (the heap and caches the first leaves to the second) falls on each
// side in turn.
var clientFirst = flag.Bool("clientfirst", false, "run each benchmark's impl=client sub-benchmarks before impl=raw")

// inTurn runs raw as impl=raw, and sdk, which runs the SDK's
// sub-benchmarks, in the order -clientfirst asks for.
func inTurn(b *testing.B, raw func(*testing.B), sdk func(*testing.B)) {
	if *clientFirst {
		sdk(b)
		b.Run("impl=raw", raw)
		return
	}
	b.Run("impl=raw", raw)
	sdk(b)
}

func BenchmarkCreate(b *testing.B) {
	hc := &http.Client{Transport: memoryTransport{status: 200, body: []byte(tokenJSON)}}
	benchPair(b, benchServer, hc, false, rawCreate, sdkCreate)
}

func BenchmarkRevoke(b *testing.B) {
	hc := &http.Client{Transport: memoryTransport{status: 200, body: []byte(revokedJSON)}}
	benchPair(b, benchServer, hc, false, rawRevoke, sdkRevoke)
}

// BenchmarkCreateNotFound is the error path: a 404 with Clerk's error body.
func BenchmarkCreateNotFound(b *testing.B) {
	hc := &http.Client{Transport: memoryTransport{status: 404, body: []byte(notFoundJSON)}}
	benchPair(b, benchServer, hc, true, rawCreate, sdkCreate)
}

// loopbackServer is a minimal handler that counts the connections opened
// to it.
type loopbackServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newLoopbackServer(body string) *loopbackServer {
	s := &loopbackServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	return s
}

// benchParallel runs the raw call and the SDK's from 16 goroutines (8 per
// core on this 2-core machine) over real loopback HTTP, and reports the
// connections each opened per 1,000 calls. The client uses its default HTTP
// client; the raw call gets a transport with the same settings (a clone of
// Go's default keeping DefaultMaxIdleConnsPerHost idle connections), so the
// two differ only in what the SDK does.
func benchParallel(b *testing.B, body string, raw func(context.Context, *http.Client, string) (*gen.SignInToken, error), sdk func(context.Context, *Client) error) {
	ctx := context.Background()
	inTurn(b, func(b *testing.B) {
		hc := NewHTTPClient(0)
		defer hc.CloseIdleConnections()
		runParallel(b, body, func(server string) error { _, err := raw(ctx, hc, server); return err })
	}, func(b *testing.B) {
		// impl=client-no-timeout separates the cost of the per-attempt
		// timeout: a deadline the transport must watch, which the raw call
		// does not set.
		for name, opts := range map[string][]Option{"impl=client": nil, "impl=client-no-timeout": {WithTimeout(0)}} {
			b.Run(name, func(b *testing.B) {
				var c *Client
				defer func() { c.CloseIdleConnections() }()
				runParallel(b, body, func(server string) error {
					if c == nil {
						c = benchClient(b, server, nil, opts...)
					}
					return sdk(ctx, c)
				})
			})
		}
	})
}

// runParallel serves body from a new loopback server and runs call against
// its /v1 base URL from 16 goroutines.
func runParallel(b *testing.B, body string, call func(server string) error) {
	srv := newLoopbackServer(body)
	defer srv.Close()
	server := srv.URL + "/v1"
	if err := call(server); err != nil { // the first call, alone: it makes the client
		b.Fatal(err)
	}
	srv.conns.Store(0)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(server); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(srv.conns.Load())*1000/float64(b.N), "conns/1k-calls")
}

func BenchmarkLoopbackCreate(b *testing.B) {
	benchParallel(b, tokenJSON, rawCreate, sdkCreate)
}

func BenchmarkLoopbackRevoke(b *testing.B) {
	benchParallel(b, revokedJSON, rawRevoke, sdkRevoke)
}

// The retry layer costs no allocation when the first attempt succeeds:
// a call with the default policy allocates as much as one with none.
// Not parallel: AllocsPerRun counts every allocation in the process.
func TestRetry_retryLayerAllocs(t *testing.T) {
	skipUnderRace(t)
	hc := &http.Client{Transport: memoryTransport{status: 200, body: []byte(tokenJSON)}}
	allocs := func(p RetryPolicy) float64 {
		c, err := New(WithSecretKey(testKey), WithServerURL(benchServer), WithHTTPClient(hc), WithRetryPolicy(p))
		if err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(200, func() {
			if err := sdkCreate(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		})
	}
	if with, without := allocs(DefaultRetryPolicy()), allocs(RetryPolicy{}); with != without {
		t.Errorf("a call allocates %v times with retries on, %v with them off", with, without)
	}
}

// A successful call allocates at most 2 times more than the hand-written
// call that sends the same four headers: a regression in the pipeline's
// cost fails here, not only in a benchmark nobody reads. Both go through
// an in-memory transport, which is not Go's, so the client pays for closing
// a body that may ignore its context at the deadline (a timer: the 2); over
// Go's transport it does not. It saves what http.Client.Do allocates, which
// it passes over. Not parallel, for the same reason as above.
func TestClient_allocsPerCall(t *testing.T) {
	skipUnderRace(t)
	const budget = 2
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		raw  func(context.Context, *http.Client, string) (*gen.SignInToken, error)
		sdk  func(context.Context, *Client) error
	}{
		{"create", tokenJSON, rawCreate, sdkCreate},
		{"revoke", revokedJSON, rawRevoke, sdkRevoke},
	}
	for _, tt := range tests {
		hc := &http.Client{Transport: memoryTransport{status: 200, body: []byte(tt.body)}}
		c, err := New(WithSecretKey(testKey), WithServerURL(benchServer), WithHTTPClient(hc))
		require.NoError(t, err)
		raw := testing.AllocsPerRun(200, func() {
			if _, err := tt.raw(ctx, hc, benchServer); err != nil {
				t.Fatal(err)
			}
		})
		sdk := testing.AllocsPerRun(200, func() {
			if err := tt.sdk(ctx, c); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, sdk, raw+budget, "%s: the client allocates %v times, the hand-written call %v", tt.name, sdk, raw)
		t.Logf("%s: client %v allocations, hand-written %v", tt.name, sdk, raw)
	}
}

// behindDoer is an *http.Client behind a doer of one's own, which the SDK
// calls through its Do.
type behindDoer struct{ *http.Client }

// Passing over an *http.Client's Do for its transport saves what Do
// allocates: over the same transport, a call allocates less than one
// through Do. Not parallel, for the same reason as above.
func TestClient_passOverSavesDosAllocs(t *testing.T) {
	skipUnderRace(t)
	hc := &http.Client{Transport: memoryTransport{status: 200, body: []byte(revokedJSON)}}
	allocs := func(doer HTTPDoer) float64 {
		c, err := New(WithSecretKey(testKey), WithServerURL(benchServer), WithHTTPClient(doer))
		require.NoError(t, err)
		return testing.AllocsPerRun(200, func() {
			if err := sdkRevoke(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		})
	}
	passed, viaDo := allocs(hc), allocs(behindDoer{hc})
	assert.Less(t, passed, viaDo, "allocations passing over Do, and through Do")
	t.Logf("passing over Do: %v allocations; through Do: %v", passed, viaDo)
}

// BenchmarkBuildRevokeRequest isolates request building: the hand-written
// call's http.NewRequest of one URL string against the client's check (the
// generated Prepare function) and request, headers included.
func BenchmarkBuildRevokeRequest(b *testing.B) {
	b.Run("impl=raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := http.NewRequest(http.MethodPost, benchServer+"/sign_in_tokens/"+url.PathEscape("sit_2aBcD")+"/revoke", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := buildBenchRequest(gen.RevokeSignInTokenOperation(), func() (gen.Call, error) { return gen.PrepareRevokeSignInToken(benchServer+"/", "sit_2aBcD") }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBuildCreateRequest is the same for a create: the body is
// marshalled by both.
func BenchmarkBuildCreateRequest(b *testing.B) {
	body := CreateSignInTokenRequest{UserID: "user_12345"}
	b.Run("impl=raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, err := json.Marshal(body)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := http.NewRequest(http.MethodPost, benchServer+"/sign_in_tokens", bytes.NewReader(buf)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := buildBenchRequest(gen.CreateSignInTokenOperation(), func() (gen.Call, error) { return gen.PrepareCreateSignInToken(benchServer+"/", body) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// buildBenchRequest checks and builds a request as one attempt of the
// client does, the check included.
func buildBenchRequest(op gen.Operation, prepare func() (gen.Call, error)) (*http.Request, error) {
	p, err := prepare()
	if err != nil {
		return nil, err
	}
	c := &Client{setHeaders: headerSetter(testKey, "2026-05-12", "bench")}
	req, _, err := newRequest(context.Background(), c, &op, p)
	return req, err
}

// skipUnderRace skips an allocation count under -race; make test counts
// allocations in its run without it.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("-race changes what escapes to the heap; make test counts allocations without it")
	}
}
