package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/gen"
	"github.com/clerkgo/signintokens/internal/journal"
)

// usersFile writes n user IDs, one per line, with a comment and a blank line.
func usersFile(t *testing.T, n int) (string, []string) {
	t.Helper()
	return usersFileNamed(t, n, "")
}

// usersFileNamed is usersFile with prefix in each ID, for inputs whose
// users must differ.
func usersFileNamed(t *testing.T, n int, prefix string) (string, []string) {
	t.Helper()
	users := make([]string, n)
	var b strings.Builder
	b.WriteString("# an invitation wave\n\n")
	for i := range users {
		users[i] = fmt.Sprintf("user_%s%05d", prefix, i)
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
		return map[string]string{"CLERK_SECRET_KEY": srv.SecretKey(), "CLERK_API_URL": srv.URL}[k]
	}}
	code = c.run(context.Background(), args)
	return out.String(), errOut.String(), code
}

// parseLines parses a run's output, any line of any length, and returns
// its outcome lines: every line but the journal's header and the intents
// written before each call is sent.
// journalLine is a line of a bulk run's output, as the README documents it.
type journalLine struct {
	Seq            uint64             `json:"seq"`
	UserID         string             `json:"user_id,omitempty"`
	SignInTokenID  string             `json:"sign_in_token_id,omitempty"`
	Line           int                `json:"line"`
	Sending        bool               `json:"sending,omitempty"`
	ID             string             `json:"id,omitempty"`
	Status         string             `json:"status,omitempty"`
	URL            string             `json:"url,omitempty"`
	DuplicateOf    int                `json:"duplicate_of,omitempty"`
	Error          *journal.ErrorInfo `json:"error,omitempty"`
	Uncertain      bool               `json:"uncertain,omitempty"`
	Skipped        bool               `json:"skipped,omitempty"`
	HeldBack       bool               `json:"held_back,omitempty"`
	AlreadyRevoked bool               `json:"already_revoked,omitempty"`
}

// key is the line's input ID, in column.
func (l journalLine) key(column string) string {
	if column == "user_id" {
		return l.UserID
	}
	return l.SignInTokenID
}

func parseLines(t *testing.T, out string) []journalLine {
	t.Helper()
	var lines []journalLine
	for i, s := range strings.SplitAfter(out, "\n") {
		if s == "" {
			continue
		}
		if i == 0 && strings.Contains(s, `"journal":"signintokens"`) {
			continue // the journal's header
		}
		var l journalLine
		require.NoError(t, json.Unmarshal([]byte(s), &l), "%.200s", s)
		if !l.Sending {
			lines = append(lines, l)
		}
	}
	return lines
}

// byKey indexes outcome lines by their input ID; each must come once.
func byKey(t *testing.T, lines []journalLine, column string) map[string]journalLine {
	t.Helper()
	m := map[string]journalLine{}
	for _, l := range lines {
		_, dup := m[l.key(column)]
		require.False(t, dup, "two outcome lines for %s", l.key(column))
		m[l.key(column)] = l
	}
	return m
}

// assertOneTokenEach checks the fake's store: every user has exactly one token.
func assertOneTokenEach(t *testing.T, srv *clerktest.Server, users []string) {
	t.Helper()
	perUser := map[string]int{}
	for _, tok := range srv.SignInTokens() {
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
	lines := byKey(t, parseLines(t, stdout), "user_id")
	require.Len(t, lines, len(users))
	for i, u := range users {
		l := lines[u]
		require.Nil(t, l.Error, u)
		require.Equal(t, i+3, l.Line, "%s: the input line (after a comment and a blank line)", u)
		require.True(t, strings.HasPrefix(l.ID, "sit_"))
		require.Equal(t, "pending", l.Status)
	}
	assertOneTokenEach(t, srv, users)
	assert.Contains(t, stderr, "2000 done, 0 failed")
}

// With the client's limiter off and 16 calls at once, Retry-After keeps the
// 429s to one wave per window at most, and every user still gets one token.
// The fake lets 5 requests through per second: the first 16 calls start
// together, so the limit is met on any machine that sends 6 requests within
// a second. (Each call honouring Retry-After alone would meet the bound as
// well; that the calls pause together is pinned by client's
// TestThrottle_429PausesEveryCall.)
func TestCreateFrom_withoutLimiter(t *testing.T) {
	t.Parallel()
	const perWindow, window, concurrency = 5, time.Second, 16
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(perWindow, window)
	path, users := usersFile(t, 4*perWindow)
	start := time.Now()
	stdout, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--rate", "0", "--concurrency", strconv.Itoa(concurrency))
	elapsed := time.Since(start)
	require.Equal(t, 0, code, stderr)
	require.Len(t, parseLines(t, stdout), len(users))
	assertOneTokenEach(t, srv, users)
	windows := int(elapsed/window) + 1
	got := count429(srv)
	assert.LessOrEqual(t, got, concurrency*windows, "429s: %d over %d windows", got, windows)
	assert.Positive(t, got, "the limit was met")
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
	lines := byKey(t, parseLines(t, revoked), "sign_in_token_id")
	require.Len(t, lines, len(users)+1)
	for id, l := range lines {
		if id == "sit_unknown" {
			continue
		}
		assert.Equal(t, "revoked", l.Status)
		assert.Equal(t, l.SignInTokenID, l.ID)
	}
	last := lines["sit_unknown"]
	require.NotNil(t, last.Error)
	assert.Equal(t, len(users)+2, last.Line)
	assert.Equal(t, "resource_not_found", last.Error.Code)
	assert.Equal(t, 404, last.Error.StatusCode)
	assert.Contains(t, stderr, fmt.Sprintf("%d done, 1 failed", len(users)))
	for _, tok := range srv.SignInTokens() {
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
		{[]string{"create", "--user-id", "user_1", "--resume", "out.jsonl"}, "--resume and --journal go with --from"},
		{[]string{"create", "--from", path, "--recreate-uncertain"}, "--recreate-uncertain goes with --journal or --resume"},
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

// BenchmarkCreateFrom2000 times a bulk run of 2,000 users, with a synced
// --journal, against a fake limited to 500 requests per second: the limit's
// minimum is 4 s. It reports
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
	dir := b.TempDir()
	for n := 0; b.Loop(); n++ {
		srv := clerktest.NewServer(b, clerktest.WithAnyUser())
		srv.SetRateLimit(500, time.Second)
		journal := filepath.Join(dir, fmt.Sprintf("run%d.jsonl", n))
		var out, errOut bytes.Buffer
		c := cli{stdout: &out, stderr: &errOut, getenv: func(k string) string {
			return map[string]string{"CLERK_SECRET_KEY": srv.SecretKey(), "CLERK_API_URL": srv.URL}[k]
		}}
		start := time.Now()
		args := []string{"create", "--from", path, "--journal", journal, "--rate", "490", "--concurrency", "8"}
		if code := c.run(context.Background(), args); code != 0 {
			b.Fatalf("exit %d: %s", code, errOut.String())
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/run")
		srv.Close()
	}
}

// Ctrl-C halfway: the calls under way finish and are written, and the run
// exits 130; a second run with --resume creates a token for each remaining
// user, and none twice.
func TestCreateFrom_interruptAndResume(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 200)
	out := filepath.Join(t.TempDir(), "out.jsonl")

	cmd, stdout, stderr := start(t, serverEnv(srv), "create", "--from", path, "--rate", "100", "--concurrency", "4")
	var first bytes.Buffer
	for n := 0; ; n++ {
		line, err := stdout.ReadString('\n')
		first.WriteString(line)
		if n == 20 {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		}
		if err != nil {
			break
		}
	}
	code, _ := ended(t, cmd)
	assert.Equal(t, 130, code, "an interrupted run exits as Ctrl-C does")
	firstLines := parseLines(t, first.String())
	require.Less(t, len(firstLines), len(users), "stopped early")
	for _, l := range firstLines {
		require.Nil(t, l.Error, "every line written is complete")
	}
	assert.Len(t, srv.SignInTokens(), len(firstLines), "every token made has its line")
	assert.Contains(t, stderr.String(), fmt.Sprintf("%d not started", len(users)-len(firstLines)))
	require.NoError(t, os.WriteFile(out, first.Bytes(), 0o600))

	second, stderr2, code := runInProcess(t, srv, nil, "create", "--from", path, "--resume", out, "--rate", "0")
	require.Equal(t, 0, code, stderr2)
	var made, skipped int
	for _, l := range parseLines(t, second) {
		if l.Skipped {
			skipped++
		} else {
			made++
		}
	}
	assert.Equal(t, len(users)-len(firstLines), made)
	assert.Equal(t, len(firstLines), skipped, "the users done before are carried into the new output")
	assert.Contains(t, stderr2, fmt.Sprintf("%d skipped", len(firstLines)))
	assertOneTokenEach(t, srv, users)
}

// The same ID twice or more in one input is done once; later copies are
// reported as duplicates of the first line, and not sent.
func TestCreateFrom_duplicates(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	in := "user_1\nuser_2\nuser_1\nuser_3\nuser_1\nuser_2\n"
	stdout, stderr, code := runInProcess(t, srv, strings.NewReader(in), "create", "--from", "-", "--rate", "0")
	require.Equal(t, 0, code, stderr)
	assertOneTokenEach(t, srv, []string{"user_1", "user_2", "user_3"})
	var dups []journalLine
	for _, l := range parseLines(t, stdout) {
		if l.DuplicateOf != 0 {
			dups = append(dups, journalLine{UserID: l.UserID, Line: l.Line, DuplicateOf: l.DuplicateOf})
		}
	}
	assert.ElementsMatch(t, []journalLine{
		{UserID: "user_1", Line: 3, DuplicateOf: 1},
		{UserID: "user_1", Line: 5, DuplicateOf: 1},
		{UserID: "user_2", Line: 6, DuplicateOf: 2},
	}, dups)
	assert.Contains(t, stderr, "3 done, 0 failed, 0 skipped (done before), 3 duplicate, 0 not started")
}

// A UTF-8 byte order mark (Excel's "CSV UTF-8", Notepad) is not part of the
// first ID or column name.
func TestCreateFrom_byteOrderMark(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"text": "\ufeffuser_1\nuser_2\n",
		"csv":  "\ufeffuser_id,email\nuser_1,a@example.com\nuser_2,b@example.com\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := clerktest.NewServer(t, clerktest.WithUsers("user_1", "user_2"))
			_, stderr, code := runInProcess(t, srv, strings.NewReader(in), "create", "--from", "-", "--rate", "0")
			require.Equal(t, 0, code, stderr)
			assertOneTokenEach(t, srv, []string{"user_1", "user_2"})
		})
	}
}

// Output that cannot be written is an error, never a silent loss: a single
// create to a full disk exits 1 and names the token it made; a bulk run
// writes each create's intent before sending it, so it stops before
// sending anything.
func TestCreate_fullDisk(t *testing.T) {
	t.Parallel()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	t.Cleanup(func() { _ = full.Close() })
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, _ := usersFile(t, 50)
	for _, args := range [][]string{{"create", "--user-id", "user_1"}, {"create", "--from", path, "--rate", "0"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), serverEnv(srv)...)
		cmd.Stdout = full
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, "%v", args)
		assert.Equal(t, 1, exitErr.ExitCode(), "%v", args)
		assert.Contains(t, stderr.String(), "no space left on device", "%v", args)
	}
	toks := srv.SignInTokens()
	require.Len(t, toks, 1, "the single create made its token; the bulk run sent nothing")
	assert.Equal(t, "user_1", toks[0].UserID)
}

// failAfter is a writer that accepts n writes and fails every one after.
type failAfter struct {
	n   int
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *failAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return 0, errors.New("no space left on device")
	}
	w.n--
	return w.buf.Write(p)
}

// A write that fails partway through a run stops it at once: no new call
// starts, the calls in flight finish, and the tokens whose lines could not
// be written are listed on stderr, so none is lost without a word.
func TestCreateFrom_writeFailsMidRun(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 200)
	out := &failAfter{n: 30}
	var stderr bytes.Buffer
	c := cli{stdout: out, stderr: &stderr, getenv: func(k string) string {
		return map[string]string{"CLERK_SECRET_KEY": srv.SecretKey(), "CLERK_API_URL": srv.URL}[k]
	}}
	code := c.run(context.Background(), []string{"create", "--from", path, "--rate", "0", "--concurrency", "4"})
	assert.Equal(t, 1, code)
	written := byKey(t, parseLines(t, out.buf.String()), "user_id")
	lost := map[string]string{}
	_, list, _ := strings.Cut(stderr.String(), "(revoke them or record them):\n")
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			lost[f[0]] = f[1]
		}
	}
	toks := srv.SignInTokens()
	assert.Less(t, len(toks), len(users), "the run stopped")
	for _, tok := range toks {
		if l, ok := written[tok.UserID]; ok {
			assert.Equal(t, tok.ID, l.ID)
		} else {
			assert.Equal(t, tok.ID, lost[tok.UserID], "token of %s: neither written nor listed", tok.UserID)
		}
	}
	assert.Contains(t, stderr.String(), "writing the output: no space left on device; the run stopped")
	t.Logf("%d tokens: %d with their line, %d listed as lost", len(toks), len(written), len(lost))
}

// The summary counts every ID: done, failed, skipped by --resume,
// duplicates, and those not started.
func TestCreateFrom_summaryCounts(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithUsers("user_1", "user_2", "user_3", "user_4"))
	out := filepath.Join(t.TempDir(), "out.jsonl")
	first, _, code := runInProcess(t, srv, strings.NewReader("user_1\nuser_2\n"), "create", "--from", "-", "--rate", "0")
	require.Equal(t, 0, code)
	require.NoError(t, os.WriteFile(out, []byte(first), 0o600))
	in := "user_1\nuser_2\nuser_3\nuser_3\nuser_4\nuser_nobody\n"
	_, stderr, code := runInProcess(t, srv, strings.NewReader(in), "create", "--from", "-", "--resume", out, "--rate", "0")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "2 done, 1 failed, 2 skipped (done before), 1 duplicate, 0 not started")
}
