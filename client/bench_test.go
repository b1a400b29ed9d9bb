package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

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

func benchClient(b *testing.B, server string, hc *http.Client, opts ...Option) *Client {
	c, err := New(append([]Option{WithSecretKey(testKey), WithServerURL(server), WithHTTPClient(hc)}, opts...)...)
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
	b.Run("impl=raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := raw(ctx, hc, server)
			check(err)
		}
	})
	b.Run("impl=client", func(b *testing.B) {
		c := benchClient(b, server, hc)
		b.ReportAllocs()
		for b.Loop() {
			check(sdk(ctx, c))
		}
	})
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

// loopbackClient keeps enough idle connections for b.RunParallel.
func loopbackClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

// benchParallel runs the raw call and the SDK's from many goroutines over
// real loopback HTTP.
func benchParallel(b *testing.B, server string, raw func(context.Context, *http.Client, string) (*gen.SignInToken, error), sdk func(context.Context, *Client) error) {
	hc := loopbackClient()
	defer hc.CloseIdleConnections()
	ctx := context.Background()
	b.Run("impl=raw", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := raw(ctx, hc, server); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	// impl=client-no-timeout separates the cost of the per-attempt timeout:
	// a deadline the transport must watch, which the raw call does not set.
	for name, opts := range map[string][]Option{"impl=client": nil, "impl=client-no-timeout": {WithTimeout(0)}} {
		b.Run(name, func(b *testing.B) {
			c := benchClient(b, server, hc, opts...)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := sdk(ctx, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func minimalServer(body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
}

func BenchmarkLoopbackCreate(b *testing.B) {
	srv := minimalServer(tokenJSON)
	defer srv.Close()
	benchParallel(b, srv.URL+"/v1", rawCreate, sdkCreate)
}

func BenchmarkLoopbackRevoke(b *testing.B) {
	srv := minimalServer(revokedJSON)
	defer srv.Close()
	benchParallel(b, srv.URL+"/v1", rawRevoke, sdkRevoke)
}

// The retry layer costs no allocation when the first attempt succeeds:
// a call with the default policy allocates as much as one with none.
// Not parallel: AllocsPerRun counts every allocation in the process.
func TestSender_retryLayerAllocs(t *testing.T) {
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

// BenchmarkBuildRevokeRequest isolates a cost the SDK does not control: the
// generated builder parses the server URL and resolves the path on each call,
// where the hand-written call parses one URL string.
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
			if _, err := gen.NewRevokeSignInTokenRequest(benchServer+"/", "sit_2aBcD"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBuildCreateRequest is the same for a create: the body is marshalled
// by both; the generated builder also parses and resolves the server URL.
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
			if _, err := gen.NewCreateSignInTokenRequest(benchServer+"/", body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
