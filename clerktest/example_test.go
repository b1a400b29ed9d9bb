package clerktest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// In a test, NewServer(t) does this and closes the server when the test ends;
// New serves the same fake any other way.
func ExampleNew() {
	fake := clerktest.New(clerktest.WithUsers("user_1"))
	srv := httptest.NewServer(fake)
	defer srv.Close()

	c, err := client.New(client.WithSecretKey(fake.SecretKey()), client.WithServerURL(srv.URL+"/v1"))
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	if err != nil {
		log.Fatal(err)
	}
	if err := fake.AcceptSignInToken(res.SignInToken.ID); err != nil { // as the user signing in would
		log.Fatal(err)
	}
	tok, _ := fake.SignInToken(res.SignInToken.ID)
	fmt.Println(tok.UserID, tok.Status)
	for _, r := range fake.Requests() {
		fmt.Println(r.Method, r.Path, r.Status)
	}
	// Output:
	// user_1 accepted
	// POST /v1/sign_in_tokens 200
}

func ExampleFake_SetRateLimit() {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	fake := clerktest.New(clerktest.WithAnyUser(), clerktest.WithClock(func() time.Time { return now }))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.SetRateLimit(1, 10*time.Second)

	c, err := client.New(client.WithSecretKey(fake.SecretKey()), client.WithServerURL(srv.URL+"/v1"),
		client.WithRetryPolicy(client.RetryPolicy{}))
	if err != nil {
		log.Fatal(err)
	}
	for _, user := range []string{"user_1", "user_2"} {
		_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: user})
		var ae *client.APIError
		if errors.As(err, &ae) {
			fmt.Println(user, ae.StatusCode, ae.Errors[0].Code, "retry after", ae.RetryAfter)
			continue
		}
		fmt.Println(user, err)
	}
	// Output:
	// user_1 <nil>
	// user_2 429 too_many_requests retry after 10s
}

// With WithInMemoryNetwork the fake is served over an in-memory network
// that testing/synctest can see, so that a test of retries or timeouts runs
// in fake time:
//
//	func TestRetry(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"), clerktest.WithInMemoryNetwork())
//			srv.FailNext(1, clerktest.Fault{Status: 429, Header: http.Header{"Retry-After": {"3"}}})
//			start := time.Now()
//			_, err := srv.Client().SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_1"})
//			// err is nil, and time.Since(start) is 3 s of fake time: no real time passed.
//		})
//	}
//
// Outside a test, StartServer serves it the same way.
func ExampleWithInMemoryNetwork() {
	srv := clerktest.StartServer(clerktest.WithUsers("user_1"), clerktest.WithInMemoryNetwork())
	defer srv.Close()
	res, err := srv.Client().SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.StatusCode, res.SignInToken.UserID, res.SignInToken.Status)
	// Output:
	// 200 user_1 pending
}
