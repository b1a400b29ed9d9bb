package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/bulk"
	"github.com/clerkgo/signintokens/internal/journal"
)

func (c cli) create(ctx context.Context, args []string) int {
	fs := c.flags("create", "create --user-id USER [--org-id ORG] [--expires-in 1h] [--json] [--show-token]\n"+
		"       signintokens create --from FILE [--journal FILE] [--concurrency 4] [--rate 9] [--org-id ORG] [--expires-in 1h]",
		"CLERK_SECRET_KEY=sk_test_... signintokens create --user-id user_12345 --expires-in 24h\n"+
			"  CLERK_SECRET_KEY=sk_test_... signintokens create --from users.txt --journal run.jsonl   # again to resume")
	userID := fs.String("user-id", "", "the user who may sign in with the token (required without --from)")
	orgID := fs.String("org-id", "", "an organization to make active on sign-in")
	expiresIn := fs.String("expires-in", "", "how long the token stays valid, as 1h30m or seconds (default 30 days)")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	showToken := fs.Bool("show-token", false, "also print the token itself (a credential); the URL is always printed")
	serverURL := fs.String("server-url", "", "the API's base URL (default $CLERK_API_URL, else https://api.clerk.com/v1)")
	bf := addBulkFlags(fs, "user ID", true)
	if _, code, ok := c.parseArgs(fs, args, 0, ""); !ok {
		return code
	}
	if code, ok := bf.check(c, fs); !ok {
		return code
	}
	switch {
	case *bf.from != "" && *userID != "":
		return c.usageError(fs, "give --user-id or --from, not both")
	case *bf.from == "" && *userID == "":
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
	if *bf.from != "" {
		header := journal.NewHeader("create", "user_id")
		header.OrgID = *orgID
		if req.ExpiresInSeconds != nil {
			header.ExpiresInSeconds = *req.ExpiresInSeconds
		}
		return c.bulk(ctx, bulkJob{Job: bulk.Job{Name: "create", Header: header, Creates: true},
			send: func(ctx context.Context, cl *client.Client, id string) (bulk.Made, error) {
				r := req
				r.UserID = id
				res, err := cl.SignInTokens.Create(ctx, r)
				return made(res, err)
			}}, *serverURL, bf)
	}
	return c.createOne(ctx, *serverURL, req, *asJSON, *showToken)
}

// createOne creates one token and prints it. A token whose output cannot
// be written is named on stderr, so that it can be revoked.
func (c cli) createOne(ctx context.Context, serverURL string, req client.CreateSignInTokenRequest, asJSON, showToken bool) int {
	cl, err := c.newClient(serverURL)
	if err != nil {
		return c.fail(err, asJSON)
	}
	res, err := cl.SignInTokens.Create(ctx, req)
	if err != nil {
		return c.fail(err, asJSON)
	}
	if err := c.printToken("created", res.SignInToken, asJSON, showToken); err != nil {
		fmt.Fprintf(c.stderr, "signintokens: writing the output: %v\n", err)
		if tok := res.SignInToken; tok != nil {
			fmt.Fprintf(c.stderr, "signintokens: the token %s for %s was created but not printed; revoke it with: signintokens revoke %s\n",
				tok.ID, tok.UserID, tok.ID)
		}
		return exitAPIError
	}
	return exitOK
}

func (c cli) revoke(ctx context.Context, args []string) int {
	fs := c.flags("revoke", "revoke SIGN_IN_TOKEN_ID [--json]\n"+
		"       signintokens revoke --from FILE [--journal FILE] [--concurrency 4] [--rate 9]",
		"CLERK_SECRET_KEY=sk_test_... signintokens revoke sit_2aBcD")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	serverURL := fs.String("server-url", "", "the API's base URL (default $CLERK_API_URL, else https://api.clerk.com/v1)")
	bf := addBulkFlags(fs, "sign-in token ID", false)
	rest, code, ok := c.parseArgs(fs, args, 1, "SIGN_IN_TOKEN_ID")
	if !ok {
		return code
	}
	if code, ok := bf.check(c, fs); !ok {
		return code
	}
	switch {
	case *bf.from != "" && len(rest) > 0:
		return c.usageError(fs, "give SIGN_IN_TOKEN_ID or --from, not both")
	case *bf.from == "" && len(rest) == 0:
		return c.usageError(fs, "want one SIGN_IN_TOKEN_ID, got 0 arguments")
	}
	if *bf.from != "" {
		job := bulk.Job{Name: "revoke", Header: journal.NewHeader("revoke", "sign_in_token_id"), AlreadyDone: revokedBefore}
		return c.bulk(ctx, bulkJob{Job: job,
			send: func(ctx context.Context, cl *client.Client, id string) (bulk.Made, error) {
				return made(cl.SignInTokens.Revoke(ctx, id))
			}}, *serverURL, bf)
	}
	cl, err := c.newClient(*serverURL)
	if err != nil {
		return c.fail(err, *asJSON)
	}
	res, err := cl.SignInTokens.Revoke(ctx, rest[0])
	if err != nil {
		return c.fail(err, *asJSON)
	}
	if err := c.printToken("revoked", res.SignInToken, *asJSON, false); err != nil {
		fmt.Fprintf(c.stderr, "signintokens: writing the output: %v\n", err)
		return exitAPIError
	}
	return exitOK
}

// made is what a bulk run records of a call's answer.
func made(res *client.SignInTokenResponse, err error) (bulk.Made, error) {
	if err != nil || res.SignInToken == nil {
		return bulk.Made{}, err
	}
	m := bulk.Made{ID: res.SignInToken.ID, Status: string(res.SignInToken.Status)}
	if res.SignInToken.URL != nil {
		m.URL = *res.SignInToken.URL
	}
	return m, nil
}

// revokedBefore reports Clerk's answer to a revoke of a token that is not
// pending, after an earlier revoke of it was sent: that one revoked it.
func revokedBefore(id string, err error) (bulk.Made, bool) {
	var ce *client.ClerkErrors
	if errors.As(err, &ce) && ce.HasCode("sign_in_token_cannot_be_revoked_code") {
		return bulk.Made{ID: id, Status: "revoked"}, true
	}
	return bulk.Made{}, false
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

// printToken prints what a caller needs of a token, in one write whose
// error it returns: a token whose URL could not be written is lost. The
// token itself, a credential, only with showToken; the URL always, since
// that is what a create is for.
func (c cli) printToken(verb string, tok *client.SignInToken, asJSON, showToken bool) error {
	var b bytes.Buffer
	switch {
	case tok == nil:
		fmt.Fprintf(&b, "%s (the answer held no token)\n", verb)
	case asJSON:
		out := *tok
		if !showToken {
			out.Token = nil
		}
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	default:
		fmt.Fprintf(&b, "%s sign-in token %s for %s\n", verb, tok.ID, tok.UserID)
		fmt.Fprintf(&b, "  status:  %s\n", tok.Status)
		if tok.URL != nil {
			fmt.Fprintf(&b, "  url:     %s\n", *tok.URL)
		}
		if tok.Token != nil && showToken {
			fmt.Fprintf(&b, "  token:   %s\n", *tok.Token)
		}
		fmt.Fprintf(&b, "  created: %s\n", tok.Created().UTC().Format(time.RFC3339))
	}
	_, err := c.stdout.Write(b.Bytes())
	return err
}
