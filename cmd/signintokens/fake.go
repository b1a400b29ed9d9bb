package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/idinput"
)

// serveFake serves h on addr until stop is called; origin is what a client
// on this machine should use: the listener's address, with a loopback
// address in place of one that means every address (0.0.0.0, ::).
func serveFake(ctx context.Context, h http.Handler, addr string) (origin string, loopback bool, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", false, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop = func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-done
	}
	tcp, _ := ln.Addr().(*net.TCPAddr)
	ip := net.IPv4(127, 0, 0, 1)
	if tcp != nil && !tcp.IP.IsUnspecified() {
		ip = tcp.IP
	}
	port := 0
	if tcp != nil {
		port = tcp.Port
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(port)), tcp != nil && tcp.IP.IsLoopback(), stop, nil
}

func (c cli) fakeServer(ctx context.Context, args []string) int {
	fs := c.flags("fake-server", "fake-server [--addr 127.0.0.1:8765] [--users FILE] [--any-user] [--secret-key KEY] "+
		"[--rate-limit 100/10s] [--log]",
		`eval "$(signintokens fake-server --any-user &)"; signintokens create --user-id user_123; kill $SIGNINTOKENS_FAKE_PID`)
	addr := fs.String("addr", "127.0.0.1:8765", "the address to listen on")
	usersFile := fs.String("users", "", "a file of user IDs that exist, one per line")
	anyUser := fs.Bool("any-user", false, "make every user_... ID exist")
	key := fs.String("secret-key", "", "the key clients must send (default: a random sk_test_ key, printed)")
	rateLimit := fs.String("rate-limit", "", "answer 429 past REQUESTS per WINDOW, such as 100/10s (Clerk's development limit)")
	remoteControl := fs.Bool("remote-control", false, "serve the /_fake/ control API on an address that is not loopback too")
	logRequests := fs.Bool("log", false, "write a line per request to stderr: time, method, path, status, duration, trace ID")
	if _, code, ok := c.parseArgs(fs, args, 0, ""); !ok {
		return code
	}
	opts := []clerktest.Option{}
	if *usersFile != "" {
		users, err := readUsers(*usersFile)
		if err != nil {
			return c.usageError(fs, "--users: %v", err)
		}
		opts = append(opts, clerktest.WithUsers(users...))
	}
	if *anyUser {
		opts = append(opts, clerktest.WithAnyUser())
	}
	if *key != "" {
		opts = append(opts, clerktest.WithSecretKey(*key))
	}
	if *logRequests {
		opts = append(opts, clerktest.WithLog(c.stderr))
	}
	f := clerktest.New(opts...)
	if *rateLimit != "" {
		n, window, err := parseRateLimit(*rateLimit)
		if err != nil {
			return c.usageError(fs, "--rate-limit: %v", err)
		}
		f.SetRateLimit(n, window)
	}
	control := &controlSwitch{fake: f, control: f.ControlHandler()}
	origin, loopback, stop, err := serveFake(ctx, control, *addr)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens fake-server: %v\n", err)
		return exitAPIError
	}
	defer stop()
	control.on.Store(loopback || *remoteControl)
	if !control.on.Load() {
		fmt.Fprintln(c.stderr, "the /_fake/ control API is off: the fake listens on an address that is not loopback; "+
			"give --remote-control to serve it there too")
	}
	c.announceFake(origin, f.SecretKey(), control.on.Load())
	<-ctx.Done()
	return exitOK
}

// announceFake prints what a shell needs on stdout, as exports that work as
// printed, and closes it, so that eval "$(signintokens fake-server &)" gets
// them and returns; the rest goes to stderr. CLERK_API_URL is the origin,
// as Clerk's JavaScript SDKs read it (they add /v1) and so does this SDK;
// clerk-sdk-go takes the versioned URL, CLERK_API_URL + "/v1".
func (c cli) announceFake(origin, key string, control bool) {
	fmt.Fprintf(c.stderr, "fake Clerk API listening on %s/v1 (Ctrl-C stops it)\n", origin)
	if control {
		fmt.Fprintf(c.stderr, "faults and rate limits: POST %s/_fake/faults and %s/_fake/rate_limit, with the key\n", origin, origin)
	}
	fmt.Fprintf(c.stdout, "export CLERK_API_URL=%s\nexport CLERK_SECRET_KEY=%s\n", origin, key)
	fmt.Fprintf(c.stdout, "export SIGNINTOKENS_FAKE=%s SIGNINTOKENS_FAKE_PID=%d\n", origin, os.Getpid())
	if f, ok := c.stdout.(*os.File); ok && f == os.Stdout {
		f.Close()
	}
}

// controlSwitch serves the control API under /_fake/ when on (the fake
// listens on a loopback address, or --remote-control), and the fake for
// everything else.
type controlSwitch struct {
	fake    http.Handler
	control http.Handler
	on      atomic.Bool // set once the listener's address is known
}

func (s *controlSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.on.Load() && strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.control.ServeHTTP(w, r)
		return
	}
	s.fake.ServeHTTP(w, r)
}

// readUsers reads the user IDs of a file as create --from does: one per
// line (blank lines and # comments skipped), or a CSV's user_id column.
func readUsers(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	in, err := idinput.New(f, "user_id", "")
	var users []string
	for err == nil {
		var id idinput.ID
		if id, err = in.Next(); err == nil {
			users = append(users, id.ID)
		}
	}
	if errors.Is(err, io.EOF) {
		return users, nil
	}
	return nil, err
}

// demo runs the whole flow against a fake in process: no key, no network.
func (c cli) demo(ctx context.Context, args []string) int {
	fs := c.flags("demo", "demo", "signintokens demo")
	if _, code, ok := c.parseArgs(fs, args, 0, ""); !ok {
		return code
	}
	const user = "user_demo"
	f := clerktest.New(clerktest.WithUsers(user))
	origin, _, stop, err := serveFake(ctx, f, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens demo: %v\n", err)
		return exitAPIError
	}
	defer stop()
	baseURL := origin + "/v1"
	cl, err := client.New(client.WithSecretKey(f.SecretKey()), client.WithServerURL(baseURL))
	if err != nil {
		return c.fail(err, false)
	}
	say := func(format string, args ...any) { fmt.Fprintf(c.stdout, format+"\n", args...) }

	say("signintokens demo: the SDK against a fake Clerk API at %s (in process: no key, no network)", baseURL)
	expires := int64(3600)
	created, err := cl.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: user, ExpiresInSeconds: &expires})
	if err != nil {
		return c.fail(err, false)
	}
	tok := created.SignInToken
	say("1. create        POST /sign_in_tokens {user_id: %s, expires_in_seconds: %d} -> %d, %s is %s", user, expires, created.StatusCode, tok.ID, tok.Status)
	say("2. show          %v", tok)
	say("                 (printing a token redacts the token and the ticket in its URL; the fields keep them)")
	revoked, err := cl.SignInTokens.Revoke(ctx, tok.ID)
	if err != nil {
		return c.fail(err, false)
	}
	say("3. revoke        POST /sign_in_tokens/%s/revoke -> %d, %s is %s", tok.ID, revoked.StatusCode, tok.ID, revoked.SignInToken.Status)
	_, err = cl.SignInTokens.Revoke(ctx, tok.ID)
	var ce *client.ClerkErrors
	if !errors.As(err, &ce) || !ce.HasCode("sign_in_token_cannot_be_revoked_code") {
		fmt.Fprintf(c.stderr, "signintokens demo: a second revoke should fail with sign_in_token_cannot_be_revoked_code, got %v\n", err)
		return exitAPIError
	}
	say("4. revoke again  -> %T, status %d, code %s, trace %s", ce, ce.StatusCode, ce.Errors[0].Code, ce.TraceID)
	say("                 error: %v", err)
	say("done: created, showed, revoked, and got the typed error for a second revoke.")
	return exitOK
}

// parseRateLimit parses --rate-limit N/WINDOW, such as 100/10s; 0 requests
// is no limit.
func parseRateLimit(s string) (int, time.Duration, error) {
	n, w, ok := strings.Cut(s, "/")
	requests, err := strconv.Atoi(n)
	window, werr := time.ParseDuration(w)
	switch {
	case !ok || err != nil || requests < 0 || (requests > 0 && (werr != nil || window <= 0)):
		return 0, 0, fmt.Errorf("want REQUESTS/WINDOW, such as 100/10s: %q", s)
	case requests == 0:
		return 0, 0, nil
	}
	return requests, window, nil
}
