package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/gen"
)

// bin is the command, built once for all tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signintokens-cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "signintokens")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs the built command with only the given environment (and PATH).
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	code := 0
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func serverEnv(srv *clerktest.Server) []string {
	return []string{"CLERK_SECRET_KEY=" + srv.SecretKey(), "CLERK_API_URL=" + srv.URL}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"))
	env := serverEnv(srv)
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"human", env, []string{"create", "--user-id", "user_1"}, 0,
			[]string{"created sign-in token sit_", "status:  pending", "url:     " + srv.URL + "/tickets/accept?ticket="}, nil},
		{"expires and org", env, []string{"create", "--user-id=user_1", "--expires-in", "90m", "--org-id", "org_1"}, 0,
			[]string{"created sign-in token"}, nil},
		{"unknown user", env, []string{"create", "--user-id", "user_404"}, 1,
			nil, []string{"signintokens: clerk: POST /sign_in_tokens: 404 resource_not_found: not found (trace trace_"}},
		{"no user id", env, []string{"create"}, 2, nil, []string{"--user-id is required"}},
		{"bad expiry", env, []string{"create", "--user-id", "user_1", "--expires-in", "0"}, 2, nil, []string{"--expires-in: must be at least 1 second"}},
		{"fractional expiry", env, []string{"create", "--user-id", "user_1", "--expires-in", "1.5s"}, 2, nil, []string{"must be whole seconds"}},
		{"unknown flag", env, []string{"create", "--user", "user_1"}, 2, nil, []string{"flag provided but not defined: -user"}},
		{"no key", []string{"CLERK_API_URL=" + srv.URL}, []string{"create", "--user-id", "user_1"}, 2, nil, []string{"CLERK_SECRET_KEY is not set"}},
		{"wrong key", []string{"CLERK_SECRET_KEY=sk_test_wrong", "CLERK_API_URL=" + srv.URL}, []string{"create", "--user-id", "user_1"}, 1,
			nil, []string{"401 API error occurred: clerk_key_invalid"}},
		{"server down", []string{"CLERK_SECRET_KEY=sk_test_x"}, []string{"create", "--user-id", "user_1", "--server-url", "http://127.0.0.1:1/v1"}, 1,
			nil, []string{"connection refused"}},
		{"help", env, []string{"create", "--help"}, 0, []string{"usage: signintokens create", "example:"}, nil},
		{"publishable key", []string{"CLERK_SECRET_KEY=pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", "CLERK_API_URL=" + srv.URL},
			[]string{"create", "--user-id", "user_1"}, 2, nil, []string{"secret key is a publishable key (pk_...)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.env, tt.args...)
			assert.Equal(t, tt.code, r.code, "stderr: %s", r.stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, r.stdout, s)
			}
			for _, s := range tt.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.NotContains(t, r.stdout+r.stderr, srv.SecretKey())
			assert.NotContains(t, r.stdout+r.stderr, "token:", "the token itself is shown only when asked for")
		})
	}
}

func TestCreate_json(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"))
	r := run(t, serverEnv(srv), "create", "--user-id", "user_1", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var tok gen.SignInToken
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	held, ok := srv.SignInToken(tok.ID)
	require.True(t, ok)
	assert.Equal(t, held.URL, tok.URL)
	assert.Equal(t, gen.SignInTokenStatusPending, tok.Status)
	assert.Nil(t, tok.Token)

	r = run(t, serverEnv(srv), "create", "--user-id", "user_1", "--json", "--show-token")
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &tok))
	require.NotNil(t, tok.Token)
	held, _ = srv.SignInToken(tok.ID)
	assert.Equal(t, *held.Token, *tok.Token)

	r = run(t, serverEnv(srv), "create", "--user-id", "user_404", "--json")
	assert.Equal(t, 1, r.code)
	var e jsonError
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &e))
	assert.Equal(t, "clerk", e.Error.Kind)
	assert.Equal(t, 404, e.Error.StatusCode)
	assert.Equal(t, "resource_not_found", e.Error.Code)
	assert.NotEmpty(t, e.Error.TraceID)
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithUsers("user_1"))
	env := serverEnv(srv)
	created := run(t, env, "create", "--user-id", "user_1", "--json")
	require.Equal(t, 0, created.code, created.stderr)
	var tok gen.SignInToken
	require.NoError(t, json.Unmarshal([]byte(created.stdout), &tok))

	r := run(t, env, "revoke", tok.ID)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "revoked sign-in token "+tok.ID)
	assert.Contains(t, r.stdout, "status:  revoked")

	r = run(t, env, "revoke", "--json", tok.ID)
	assert.Equal(t, 1, r.code)
	var e jsonError
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &e), r.stdout)
	assert.Equal(t, "sign_in_token_cannot_be_revoked_code", e.Error.Code)
	assert.Equal(t, 400, e.Error.StatusCode)

	for _, args := range [][]string{{"revoke"}, {"revoke", "a", "b"}, {"revoke", "../x"}, {"revoke", ".."}} {
		r = run(t, env, args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
	r = run(t, env, "revoke", "../x", "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &e), r.stdout)
	assert.Equal(t, "invalid_request", e.Error.Kind)
	held, _ := srv.SignInToken(tok.ID)
	assert.Equal(t, gen.SignInTokenStatusRevoked, held.Status)
	assert.Len(t, srv.Requests(), 3, "invalid input sends nothing")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"nope"}, 2},
		{[]string{"help"}, 0},
		{[]string{"--help"}, 0},
		{[]string{"revoke", "--help"}, 0},
		{[]string{"demo", "--help"}, 0},
		{[]string{"fake-server", "--help"}, 0},
		{[]string{"--version"}, 0},
		{[]string{"version"}, 0},
		{[]string{"demo", "extra"}, 2},
	}
	for _, tt := range tests {
		r := run(t, nil, tt.args...)
		assert.Equal(t, tt.code, r.code, "%v", tt.args)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "demo")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, prefix := range []string{"1. create", "2. show", "3. revoke", "4. revoke again"} {
		assert.Contains(t, r.stdout, "\n"+prefix)
	}
	assert.Contains(t, r.stdout, "*client.ClerkErrors, status 400, code sign_in_token_cannot_be_revoked_code")
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], "done:"))
	assert.NotContains(t, r.stdout, "ticket=")
	assert.NotContains(t, r.stdout, "eyJ", "no token is printed")
}

func TestFakeServer(t *testing.T) {
	t.Parallel()
	users := filepath.Join(t.TempDir(), "users.txt")
	require.NoError(t, os.WriteFile(users, []byte("# seeded\nuser_file\n\n"), 0o600))
	cmd := exec.Command(bin, "fake-server", "--addr", "127.0.0.1:0", "--users", users, "--secret-key", "sk_test_fake")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	sc := bufio.NewScanner(stdout)
	var env []string
	for len(env) < 2 && sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			env = append(env, v)
		}
	}
	require.Equal(t, []string{"CLERK_API_URL=", "CLERK_SECRET_KEY=sk_test_fake"}, []string{env[0][:len("CLERK_API_URL=")], env[1]})

	r := run(t, env, "create", "--user-id", "user_file")
	assert.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, "create", "--user-id", "user_other")
	assert.Equal(t, 1, r.code, "only seeded users exist")

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	assert.NoError(t, cmd.Wait(), "stops cleanly on Ctrl-C")
}

func TestParseSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"3600", 3600, ""},
		{"1h", 3600, ""},
		{"1h30m", 5400, ""},
		{"1s", 1, ""},
		{"0", 0, "at least 1 second"},
		{"-5", 0, "at least 1 second"},
		{"500ms", 0, "at least 1 second"},
		{"1500ms", 0, "whole seconds"},
		{"soon", 0, "neither a duration"},
	}
	for _, tt := range tests {
		got, err := parseSeconds(tt.in)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, tt.in)
			continue
		}
		assert.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// Help asked for goes to stdout, for every command as for signintokens
// itself; --version prints the module's, the SDK's and Go's versions.
func TestHelpAndVersionOnStdout(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"create", "--help"}, {"revoke", "-h"}, {"fake-server", "--help"}, {"demo", "--help"}} {
		r := run(t, nil, args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Contains(t, r.stdout, "usage: signintokens", "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
	}
	r := run(t, nil, "create", "--no-such-flag")
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout, "a bad flag's usage goes to stderr")
	r = run(t, nil, "--version")
	assert.Equal(t, 0, r.code)
	assert.Regexp(t, `^signintokens \S+ \(SDK \d+\.\d+\.\d+, go1\.\d+`, r.stdout)
}

// Bound to an address that is not loopback without --remote-control,
// fake-server says that its control API is off.
func TestFakeServer_saysControlIsOff(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(bin, "fake-server", "--any-user", "--addr", "0.0.0.0:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var said strings.Builder
	for sc := bufio.NewScanner(stderr); sc.Scan(); { // up to the line saying where it listens
		said.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "listening on") {
			break
		}
	}
	assert.Contains(t, said.String(), "control API is off")
	assert.Contains(t, said.String(), "--remote-control")
}
