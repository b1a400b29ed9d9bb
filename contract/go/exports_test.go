package contract

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/signintoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
)

// fakeServerExports starts the signintokens command named by SIGNINTOKENS
// (make contract builds it) as fake-server, and returns its exports as it
// prints them; it skips, saying why, when SIGNINTOKENS is not set.
func fakeServerExports(t *testing.T, user string) map[string]string {
	t.Helper()
	bin := os.Getenv("SIGNINTOKENS")
	if bin == "" {
		t.Skip("SIGNINTOKENS does not name a built signintokens command (make contract sets it)")
	}
	cmd := exec.Command(bin, "fake-server", "--addr", "127.0.0.1:0", "--users", writeUsers(t, user))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	env := map[string]string{}
	for sc := bufio.NewScanner(stdout); sc.Scan(); { // until fake-server closes its stdout
		for _, kv := range strings.Fields(strings.TrimPrefix(sc.Text(), "export ")) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	require.NotEmpty(t, env["CLERK_API_URL"])
	return env
}

func writeUsers(t *testing.T, users ...string) string {
	t.Helper()
	path := t.TempDir() + "/users.txt"
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(users, "\n")+"\n"), 0o600))
	return path
}

// The exports fake-server prints work as printed: this SDK reads
// CLERK_API_URL and CLERK_SECRET_KEY from the environment itself, and
// clerk-sdk-go, which takes the versioned URL (its APIURL is
// https://api.clerk.com/v1), gets CLERK_API_URL + "/v1". Both create a
// token for the fake's user. (contract/node does the same with
// @clerk/backend, which adds /v1 itself.)
func TestFakeServerExports(t *testing.T) {
	const user = "user_26Ect5GuCCeaFWwSDiiKcgAGtVk"
	env := fakeServerExports(t, user)
	t.Setenv("CLERK_API_URL", env["CLERK_API_URL"])
	t.Setenv("CLERK_SECRET_KEY", env["CLERK_SECRET_KEY"])

	c, err := client.New()
	require.NoError(t, err)
	res, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: user})
	require.NoError(t, err, "this SDK with the exports as printed")
	assert.Equal(t, user, res.SignInToken.UserID)

	theirs := signintoken.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL: clerk.String(os.Getenv("CLERK_API_URL") + "/v1"), Key: clerk.String(os.Getenv("CLERK_SECRET_KEY")),
	}})
	tok, err := theirs.Create(context.Background(), &signintoken.CreateParams{UserID: clerk.String(user)})
	require.NoError(t, err, "clerk-sdk-go with the versioned URL")
	assert.Equal(t, user, tok.UserID)
}
