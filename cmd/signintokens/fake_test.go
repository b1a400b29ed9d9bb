package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
)

// readmeSession is the shell session after marker in README.md.
func readmeSession(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "<!-- session: "+marker+" -->\n```sh\n")
	require.True(t, ok, "README.md has no session %q", marker)
	session, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	return session
}

// The README's curl session scripts a 503 and a rate limit against
// fake-server, and gets what its comments say.
func TestFakeServer_readmeSession(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	cmd := exec.Command("bash", "-c", readmeSession(t, "fake-server faults"))
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got := string(out)
	for _, want := range []string{
		`{"ok":true}`,
		"503 API error occurred",
		"exit 1",
		"created",
		"429 API error occurred",
		"(retry after 30s)",
	} {
		assert.Contains(t, got, want)
	}
	assert.Equal(t, 3, strings.Count(got, `{"ok":true}`))
	assert.Equal(t, 2, strings.Count(got, "created"))
	assert.Equal(t, 2, strings.Count(got, "exit 1"))
}

// fakeServer starts fake-server with args and returns its exports and the
// stderr it printed first.
func startFakeServer(t *testing.T, args ...string) (env map[string]string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"fake-server", "--any-user"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	env = map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() { // until fake-server closes its stdout
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		require.True(t, ok, "stdout holds exports only: %q", sc.Text())
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	return env
}

// Bound to every address, fake-server prints a loopback address, which the
// SDK and the command accept as printed; stdout holds the exports only.
func TestFakeServer_exportsWorkAsPrinted(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{":0", "0.0.0.0:0", "127.0.0.1:0"} {
		env := startFakeServer(t, "--addr", addr)
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, env["CLERK_API_URL"], "%s: an origin, as Clerk's SDKs read it", addr)
		assert.NotEmpty(t, env["SIGNINTOKENS_FAKE_PID"])
		r := run(t, []string{"CLERK_API_URL=" + env["CLERK_API_URL"], "CLERK_SECRET_KEY=" + env["CLERK_SECRET_KEY"]},
			"create", "--user-id", "user_1")
		assert.Equal(t, 0, r.code, "%s: %s", addr, r.stderr)
	}
}

// The control API needs the fake's key, refuses what it does not know,
// and is served on a loopback listener only, unless --remote-control.
func TestFakeServer_controlAPI(t *testing.T) {
	t.Parallel()
	loopback := startFakeServer(t, "--addr", "127.0.0.1:0")
	everywhere := startFakeServer(t, "--addr", "0.0.0.0:0")
	remote := startFakeServer(t, "--addr", "0.0.0.0:0", "--remote-control")
	tests := []struct {
		name   string
		env    map[string]string
		key    string
		path   string
		body   string
		status int
		want   string
	}{
		{"a fault", loopback, "", "faults", `{"next": 2, "status": 503}`, 200, `"ok":true`},
		{"a rate limit", loopback, "", "rate_limit", `{"requests": 100, "window": "10s"}`, 200, `"ok":true`},
		{"no key", loopback, "none", "faults", `{"next": 1, "status": 503}`, 401, "needs the fake's secret key"},
		{"an unknown field", loopback, "", "faults", `{"next": 1, "stauts": 503}`, 400, "unknown field"},
		{"next 0", loopback, "", "faults", `{"status": 503}`, 400, "next must be at least 1"},
		{"a bad window", loopback, "", "rate_limit", `{"requests": 1, "window": "soon"}`, 400, "positive window"},
		{"an unknown control", loopback, "", "clock", `{}`, 404, "no such control"},
		{"not on every address", everywhere, "", "faults", `{"next": 1, "status": 503}`, 404, "resource_not_found"},
		{"--remote-control", remote, "", "faults", `{"next": 1, "status": 503}`, 200, `"ok":true`},
	}
	tr := &http.Transport{} // its own: httptest servers of other tests close the default one's connections
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, tt.env["SIGNINTOKENS_FAKE"]+"/_fake/"+tt.path, strings.NewReader(tt.body))
		require.NoError(t, err)
		if tt.key != "none" {
			req.Header.Set("Authorization", "Bearer "+tt.env["CLERK_SECRET_KEY"])
		}
		rsp, err := hc.Do(req)
		require.NoError(t, err, tt.name)
		b := new(strings.Builder)
		_, _ = bufio.NewReader(rsp.Body).WriteTo(b)
		rsp.Body.Close()
		assert.Equal(t, tt.status, rsp.StatusCode, tt.name)
		assert.Contains(t, b.String(), tt.want, tt.name)
	}
	r := run(t, []string{"CLERK_API_URL=" + loopback["CLERK_API_URL"], "CLERK_SECRET_KEY=" + loopback["CLERK_SECRET_KEY"]},
		"create", "--user-id", "user_1")
	assert.Equal(t, 1, r.code, "the scripted 503")
	assert.Contains(t, r.stderr, "503")
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	n, w, err := parseRateLimit("100/10s")
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	assert.Equal(t, "10s", w.String())
	for _, bad := range []string{"100", "x/10s", "100/x", "-1/10s", "1/0s"} {
		_, _, err := parseRateLimit(bad)
		assert.Error(t, err, bad)
	}
}

// Over the control API, a test suite in any language scripts the failure
// the SDK exists for, the token made and its answer lost: the client's
// error matches ErrMaybeCreated, and GET /_fake/sign_in_tokens lists the
// token.
func TestFakeServer_controlAnswerLost(t *testing.T) {
	t.Parallel()
	env := startFakeServer(t, "--addr", "127.0.0.1:0")
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	control := func(method, path, body string) string {
		req, err := http.NewRequest(method, env["SIGNINTOKENS_FAKE"]+"/_fake/"+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+env["CLERK_SECRET_KEY"])
		rsp, err := hc.Do(req)
		require.NoError(t, err)
		defer rsp.Body.Close()
		b, err := io.ReadAll(rsp.Body)
		require.NoError(t, err)
		require.Equal(t, 200, rsp.StatusCode, "%s", b)
		return string(b)
	}
	control(http.MethodPost, "faults", `{"next": 1, "after_processing": true, "drop": true}`)
	c, err := client.New(client.WithServerURL(env["CLERK_API_URL"]), client.WithSecretKey(env["CLERK_SECRET_KEY"]),
		client.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	assert.ErrorIs(t, err, client.ErrMaybeCreated)

	var held struct {
		SignInTokens []struct {
			UserID string `json:"user_id"`
			Status string `json:"status"`
		} `json:"sign_in_tokens"`
	}
	require.NoError(t, json.Unmarshal([]byte(control(http.MethodGet, "sign_in_tokens", "")), &held))
	require.Len(t, held.SignInTokens, 1, "the token was made")
	assert.Equal(t, "user_1", held.SignInTokens[0].UserID)
	assert.Equal(t, "pending", held.SignInTokens[0].Status)
}
