package client_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// BenchmarkFakeCreate is the SDK against clerktest over loopback; the fake's
// own work (checking each request against the document) dominates.
func BenchmarkFakeCreate(b *testing.B) {
	srv := clerktest.NewServer(b, clerktest.WithAnyUser())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	defer tr.CloseIdleConnections()
	c := srv.Client(client.WithHTTPClient(&http.Client{Transport: tr}))
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_bench"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
