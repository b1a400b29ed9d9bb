package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/gen"
)

// usersFile writes n user IDs, one per line, with a comment and a blank line.
func usersFile(t *testing.T, n int) (string, []string) {
	t.Helper()
	users := make([]string, n)
	var b strings.Builder
	b.WriteString("# an invitation wave\n\n")
	for i := range users {
		users[i] = fmt.Sprintf("user_%05d", i)
		b.WriteString(users[i] + "\n")
	}
	path := filepath.Join(t.TempDir(), "users.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path, users
}

// runInProcess runs the command in this process, with the fake's key and URL.
func runInProcess(t *testing.T, srv *clerktest.Server, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := cli{stdin: stdin, stdout: &out, stderr: &errOut, getenv: func(k string) string {
		return map[string]string{"CLERK_SECRET_KEY": srv.SecretKey, "CLERK_API_URL": srv.URL}[k]
	}}
	code = c.run(context.Background(), args)
	return out.String(), errOut.String(), code
}

func parseLines(t *testing.T, out string) []bulkLine {
	t.Helper()
	var lines []bulkLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l bulkLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		lines = append(lines, l)
	}
	return lines
}

// assertOneTokenEach checks the fake's store: every user has exactly one token.
func assertOneTokenEach(t *testing.T, srv *clerktest.Server, users []string) {
	t.Helper()
	perUser := map[string]int{}
	for _, tok := range srv.Tokens() {
		perUser[tok.UserID]++
	}
	for _, u := range users {
		if !assert.Equal(t, 1, perUser[u], "tokens of %s", u) {
			return
		}
	}
	assert.Len(t, perUser, len(users))
}

func count429(srv *clerktest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Status == 429 {
			n++
		}
	}
	return n
}

// 2,000 users against a fake limited to 500 requests per second, with the
// client's limiter at the same rate: one token each, no failures.
func TestCreateFrom_withinRateLimit(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(500, time.Second)
	path, users := usersFile(t, 2000)
	stdout, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--rate", "500", "--concurrency", "8", "--expires-in", "1h")
	require.Equal(t, 0, code, stderr)
	lines := parseLines(t, stdout)
	require.Len(t, lines, len(users))
	for i, l := range lines {
		require.Equal(t, users[i], l.UserID, "line %d is in input order", i)
		require.Nil(t, l.Error, "line %d", i)
		require.True(t, strings.HasPrefix(l.ID, "sit_"))
		require.Equal(t, "pending", l.Status)
	}
	assertOneTokenEach(t, srv, users)
	assert.Contains(t, stderr, "2000 done, 0 failed")
}

// With the client's limiter off and 16 calls at once, Retry-After keeps the
// 429s to one wave per window at most, and every user still gets one token.
// (Each call honouring Retry-After alone would meet this bound as well; that
// the calls pause together is pinned by client's TestThrottle_429PausesEveryCall.)
func TestCreateFrom_withoutLimiter(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(500, time.Second)
	path, users := usersFile(t, 2000)
	start := time.Now()
	stdout, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--rate", "0", "--concurrency", "16")
	elapsed := time.Since(start)
	require.Equal(t, 0, code, stderr)
	require.Len(t, parseLines(t, stdout), len(users))
	assertOneTokenEach(t, srv, users)
	windows := int(elapsed/time.Second) + 1
	got := count429(srv)
	assert.LessOrEqual(t, got, 16*windows, "429s: %d over %d windows", got, windows)
	assert.Positive(t, got, "the limit was met")
}

// Ctrl-C halfway: the calls under way finish and are written; a second run
// with --resume creates a token for each remaining user, and none twice.
func TestCreateFrom_interruptAndResume(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 200)
	out := filepath.Join(t.TempDir(), "out.jsonl")

	cmd := exec.Command(bin, "create", "--from", path, "--rate", "100", "--concurrency", "4")
	cmd.Env = append(os.Environ(), serverEnv(srv)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var first bytes.Buffer
	sc := bufio.NewScanner(stdout)
	for n := 0; sc.Scan(); n++ {
		first.WriteString(sc.Text() + "\n")
		if n == 20 {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		}
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 1, exitErr.ExitCode(), "an interrupted run is not a success")
	firstLines := parseLines(t, first.String())
	require.Less(t, len(firstLines), len(users), "stopped early")
	for _, l := range firstLines {
		require.Nil(t, l.Error, "every line written is complete")
	}
	assert.Len(t, srv.Tokens(), len(firstLines), "every token made has its line")
	require.NoError(t, os.WriteFile(out, first.Bytes(), 0o600))

	second, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--resume", out, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, parseLines(t, second), len(users)-len(firstLines))
	assert.Contains(t, stderr, fmt.Sprintf("%d skipped", len(firstLines)))
	assertOneTokenEach(t, srv, users)
}

func TestRevokeFrom(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 30)
	created, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--rate", "0")
	require.Equal(t, 0, code, stderr)

	// A CSV with a header, from stdin, with one unknown token.
	var csv strings.Builder
	csv.WriteString("user_id,sign_in_token_id\n")
	for _, l := range parseLines(t, created) {
		csv.WriteString(l.UserID + "," + l.ID + "\n")
	}
	csv.WriteString("user_x,sit_unknown\n")
	revoked, stderr, code := runInProcess(t, srv, strings.NewReader(csv.String()), "revoke", "--from", "-", "--rate", "0")
	assert.Equal(t, 1, code, "one revoke failed")
	lines := parseLines(t, revoked)
	require.Len(t, lines, len(users)+1)
	for _, l := range lines[:len(users)] {
		assert.Equal(t, "revoked", l.Status)
		assert.Equal(t, l.SignInTokenID, l.ID)
	}
	last := lines[len(users)]
	require.NotNil(t, last.Error)
	assert.Equal(t, "sit_unknown", last.SignInTokenID)
	assert.Equal(t, "resource_not_found", last.Error.Code)
	assert.Equal(t, 404, last.Error.StatusCode)
	assert.Contains(t, stderr, fmt.Sprintf("%d done, 1 failed", len(users)))
	for _, tok := range srv.Tokens() {
		assert.Equal(t, gen.SignInTokenStatusRevoked, tok.Status)
	}
}

func TestBulk_usage(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t)
	path, _ := usersFile(t, 1)
	csvNoColumn := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(csvNoColumn, []byte("email,name\na@x,A\n"), 0o600))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--from", path, "--user-id", "user_1"}, "give --user-id or --from, not both"},
		{[]string{"create", "--from", path, "--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"create", "--from", path, "--rate", "-1"}, "--rate must not be negative"},
		{[]string{"create", "--user-id", "user_1", "--resume", "out.jsonl"}, "--resume goes with --from"},
		{[]string{"create", "--from", "/nonexistent"}, "no such file"},
		{[]string{"create", "--from", csvNoColumn}, "the CSV header has no user_id column"},
		{[]string{"revoke", "sit_1", "--from", path}, "give SIGN_IN_TOKEN_ID or --from, not both"},
		{[]string{"revoke"}, "want one SIGN_IN_TOKEN_ID, got 0 arguments"},
	}
	for _, tt := range tests {
		_, stderr, code := runInProcess(t, srv, nil, tt.args...)
		assert.Equal(t, 2, code, "%v", tt.args)
		assert.Contains(t, stderr, tt.want, "%v", tt.args)
	}
	assert.Empty(t, srv.Requests())
}

func TestIDReader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     []string
	}{
		{"lines", "# c\nuser_1\n\n  user_2  \n# end", []string{"user_1", "user_2"}},
		{"no final newline", "user_1\nuser_2", []string{"user_1", "user_2"}},
		{"header only column", "user_id\nuser_1\nuser_2\n", []string{"user_1", "user_2"}},
		{"csv", "email,user_id\na@x,user_1\n# skipped\nb@x,user_2\nc@x,\n", []string{"user_1", "user_2"}},
		{"csv quoted", "\"user_id\",name\n\"user_1\",\"A, B\"\n", []string{"user_1"}},
		{"empty", "", nil},
		{"comments only", "# nothing\n\n", nil},
	}
	for _, tt := range tests {
		in, err := newIDReader(strings.NewReader(tt.in), "user_id")
		require.NoError(t, err, tt.name)
		var got []string
		for id, err := in.next(); err == nil; id, err = in.next() {
			got = append(got, id)
		}
		assert.Equal(t, tt.want, got, tt.name)
	}
}

// The run keeps at most a window of IDs between reading and writing, so
// memory does not grow with the input; output follows input order.
func TestRunBulk_boundedAndOrdered(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	c := srv.Client()
	const n, concurrency = 3000, 8
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "user_%d\n", i)
	}
	ids, err := newIDReader(strings.NewReader(in.String()), "user_id")
	require.NoError(t, err)
	var out bytes.Buffer
	job := bulkJob{name: "create", column: "user_id", do: func(ctx context.Context, id string) (*client.SignInToken, error) {
		res, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: id})
		if err != nil {
			return nil, err
		}
		return res.SignInToken, nil
	}}
	st, err := runBulk(context.Background(), job, ids, nil, concurrency, &out, nil)
	require.NoError(t, err)
	assert.Equal(t, n, st.done)
	assert.LessOrEqual(t, st.maxPending, concurrency*8)
	for i, l := range parseLines(t, out.String()) {
		require.Equal(t, fmt.Sprintf("user_%d", i), l.UserID)
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	st := bulkStats{done: 450, failed: 50, skipped: 100}
	assert.Equal(t, "[ 60%] 450 done, 50 failed, 100/s, 4s left", progressLine(st, 1000, 5*time.Second))
	assert.Equal(t, "450 done, 50 failed, 100/s", progressLine(st, -1, 5*time.Second))
}

// BenchmarkCreateFrom2000 times a bulk run of 2,000 users against a fake
// limited to 500 requests per second: the limit's minimum is 4 s. It reports
// seconds per run. The client runs at 490 per second: at exactly the limit,
// jitter lets a 501st request into a window now and then, and the 429's
// Retry-After, in whole seconds as on Clerk, pauses the run for a second.
func BenchmarkCreateFrom2000(b *testing.B) {
	path := filepath.Join(b.TempDir(), "users.txt")
	var users strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&users, "user_%05d\n", i)
	}
	require.NoError(b, os.WriteFile(path, []byte(users.String()), 0o600))
	for b.Loop() {
		srv := clerktest.NewServer(b, clerktest.WithAnyUser())
		srv.SetRateLimit(500, time.Second)
		var out, errOut bytes.Buffer
		c := cli{stdout: &out, stderr: &errOut, getenv: func(k string) string {
			return map[string]string{"CLERK_SECRET_KEY": srv.SecretKey, "CLERK_API_URL": srv.URL}[k]
		}}
		start := time.Now()
		if code := c.run(context.Background(), []string{"create", "--from", path, "--rate", "490", "--concurrency", "8"}); code != 0 {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/run")
		srv.Close()
	}
}
