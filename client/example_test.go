package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
)

// fakeClerk serves a fake Clerk API in process, so that the examples run
// anywhere; against Clerk, leave out WithServerURL.
func fakeClerk(opts ...client.Option) (*client.Client, *clerktest.Fake, func()) {
	fake := clerktest.New(clerktest.WithUsers("user_12345"))
	srv := httptest.NewServer(fake)
	c, err := client.New(append([]client.Option{
		client.WithSecretKey(fake.SecretKey()),
		client.WithServerURL(srv.URL + "/v1"),
	}, opts...)...)
	if err != nil {
		log.Fatal(err)
	}
	return c, fake, srv.Close
}

func ExampleNew() {
	// Against Clerk: the key comes from CLERK_SECRET_KEY unless WithSecretKey sets it.
	c, err := client.New(
		client.WithSecretKey("sk_test_..."),
		client.WithUserAgent("my-app/1.2"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.SignInTokens != nil)

	_, err = client.New(client.WithSecretKey(""))
	fmt.Println(err)
	// Output:
	// true
	// clerk: no secret key: use WithSecretKey or set CLERK_SECRET_KEY
}

func ExampleSignInTokensService_Create() {
	c, _, stop := fakeClerk()
	defer stop()

	oneHour := int64(3600)
	res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{
		UserID:           "user_12345",
		ExpiresInSeconds: &oneHour,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok := res.SignInToken
	fmt.Println(res.StatusCode, tok.Status, tok.UserID)

	// Send tok.URL to the user: following it signs them in once.
	u, err := url.Parse(*tok.URL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the URL carries a ticket:", u.Query().Get("ticket") != "")
	// Output:
	// 200 pending user_12345
	// the URL carries a ticket: true
}

func ExampleSignInTokensService_Revoke() {
	c, _, stop := fakeClerk()
	defer stop()
	ctx := context.Background()

	created, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_12345"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.SignInTokens.Revoke(ctx, created.SignInToken.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.SignInToken.Status)

	// Only a pending token can be revoked.
	_, err = c.SignInTokens.Revoke(ctx, created.SignInToken.ID)
	var ce *client.ClerkErrors
	if errors.As(err, &ce) {
		fmt.Println(ce.StatusCode, ce.Errors[0].Code)
	}
	// Output:
	// revoked
	// 400 sign_in_token_cannot_be_revoked_code
}

func ExampleClerkErrors() {
	c, _, stop := fakeClerk()
	defer stop()

	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_unknown"})
	var ce *client.ClerkErrors
	if errors.As(err, &ce) && ce.HasCode("resource_not_found") {
		fmt.Println("no such user:", ce.StatusCode, ce.Errors[0].Message)
		fmt.Println("quote this trace id to Clerk:", ce.TraceID != "")
	}
	// Output:
	// no such user: 404 not found
	// quote this trace id to Clerk: true
}

func ExampleAPIError() {
	c, fake, stop := fakeClerk()
	defer stop()
	// A proxy in front of Clerk answers with a page of its own.
	fake.FailNext(1, clerktest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"})

	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_12345"})
	var ae *client.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.StatusCode, ae.Message)
	}
	// Output:
	// 502 API error occurred
}

func ExampleErrInvalidRequest() {
	c, _, stop := fakeClerk()
	defer stop()

	_, err := c.SignInTokens.Revoke(context.Background(), "../users")
	fmt.Println(errors.Is(err, client.ErrInvalidRequest))
	fmt.Println(err)
	// Output:
	// true
	// clerk: invalid request: sign_in_token_id must not contain "/", "?" or "#"
}

func ExampleWithRetryPolicy() {
	c, fake, stop := fakeClerk(client.WithRetryPolicy(client.RetryPolicy{
		MaxRetries:      3,
		InitialInterval: 10 * time.Millisecond,
		MaxInterval:     100 * time.Millisecond,
		MaxRetryAfter:   time.Second,
	}))
	defer stop()
	ctx := context.Background()
	created, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_12345"})
	if err != nil {
		log.Fatal(err)
	}

	// Two 503s, then the answer: a revoke is retried.
	fake.FailNext(2, clerktest.Fault{Status: 503})
	res, err := c.SignInTokens.Revoke(ctx, created.SignInToken.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.SignInToken.Status, "after", len(fake.Requests())-1, "attempts")
	// Output:
	// revoked after 3 attempts
}

func ExampleWithTimeout() {
	c, fake, stop := fakeClerk(client.WithTimeout(50*time.Millisecond), client.WithRetryPolicy(client.RetryPolicy{}))
	defer stop()
	fake.FailNext(1, clerktest.Fault{Delay: time.Minute})

	_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_12345"})
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// true
}
