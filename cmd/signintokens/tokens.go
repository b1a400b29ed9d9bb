package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/gen"
)

func (c cli) create(ctx context.Context, args []string) int {
	fs := c.flags("create", "create --user-id USER [--org-id ORG] [--expires-in 1h] [--json] [--show-token]",
		"CLERK_SECRET_KEY=sk_test_... signintokens create --user-id user_12345 --expires-in 24h")
	userID := fs.String("user-id", "", "the user who may sign in with the token (required)")
	orgID := fs.String("org-id", "", "an organization to make active on sign-in")
	expiresIn := fs.String("expires-in", "", "how long the token stays valid, as 1h30m or seconds (default 30 days)")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	showToken := fs.Bool("show-token", false, "also print the token itself (a credential); the URL is always printed")
	serverURL := fs.String("server-url", "", "the API's base URL (default $CLERK_API_URL, else https://api.clerk.com/v1)")
	if _, code, ok := c.parseArgs(fs, args, ""); !ok {
		return code
	}
	if *userID == "" {
		return c.usageError(fs, "--user-id is required")
	}
	req := client.CreateSignInTokenRequest{UserID: *userID}
	if *orgID != "" {
		req.OrgID = orgID
	}
	if *expiresIn != "" {
		secs, err := parseSeconds(*expiresIn)
		if err != nil {
			return c.usageError(fs, "--expires-in: %v", err)
		}
		req.ExpiresInSeconds = &secs
	}
	cl, err := c.newClient(*serverURL)
	if err != nil {
		return c.fail(err, *asJSON)
	}
	res, err := cl.SignInTokens.Create(ctx, req)
	if err != nil {
		return c.fail(err, *asJSON)
	}
	c.printToken("created", res.SignInToken, *asJSON, *showToken)
	return exitOK
}

func (c cli) revoke(ctx context.Context, args []string) int {
	fs := c.flags("revoke", "revoke SIGN_IN_TOKEN_ID [--json]",
		"CLERK_SECRET_KEY=sk_test_... signintokens revoke sit_2aBcD")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	serverURL := fs.String("server-url", "", "the API's base URL (default $CLERK_API_URL, else https://api.clerk.com/v1)")
	rest, code, ok := c.parseArgs(fs, args, "SIGN_IN_TOKEN_ID")
	if !ok {
		return code
	}
	cl, err := c.newClient(*serverURL)
	if err != nil {
		return c.fail(err, *asJSON)
	}
	res, err := cl.SignInTokens.Revoke(ctx, rest[0])
	if err != nil {
		return c.fail(err, *asJSON)
	}
	c.printToken("revoked", res.SignInToken, *asJSON, false)
	return exitOK
}

// parseSeconds reads a lifetime as a Go duration (90m, 1h30m) or a whole
// number of seconds.
func parseSeconds(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 1 {
			return 0, fmt.Errorf("must be at least 1 second")
		}
		return n, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is neither a duration such as 1h30m nor a number of seconds", s)
	case d < time.Second:
		return 0, fmt.Errorf("must be at least 1 second")
	case d%time.Second != 0:
		return 0, fmt.Errorf("must be whole seconds")
	}
	return int64(d / time.Second), nil
}

// printToken prints what a caller needs of a token. The token itself, a
// credential, only with showToken; the URL always, since that is what a
// create is for.
func (c cli) printToken(verb string, tok *client.SignInToken, asJSON, showToken bool) {
	if tok == nil {
		fmt.Fprintf(c.stdout, "%s (the answer held no token)\n", verb)
		return
	}
	out := gen.SignInToken(*tok)
	if !showToken {
		out.Token = nil
	}
	if asJSON {
		c.printJSON(out)
		return
	}
	fmt.Fprintf(c.stdout, "%s sign-in token %s for %s\n", verb, out.ID, out.UserID)
	fmt.Fprintf(c.stdout, "  status:  %s\n", out.Status)
	if out.URL != nil {
		fmt.Fprintf(c.stdout, "  url:     %s\n", *out.URL)
	}
	if out.Token != nil {
		fmt.Fprintf(c.stdout, "  token:   %s\n", *out.Token)
	}
	fmt.Fprintf(c.stdout, "  created: %s\n", time.Unix(out.CreatedAt, 0).UTC().Format(time.RFC3339))
}
