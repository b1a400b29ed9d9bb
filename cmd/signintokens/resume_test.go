package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
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
	"github.com/clerkgo/signintokens/internal/bulk"
	"github.com/clerkgo/signintokens/internal/journal"
)

// lateAnswers serves the fake so that each request takes effect at once and
// its answer comes 0 to 40 ms later, as when Clerk has made a token and the
// answer is on its way: a process killed then leaves tokens it never heard
// of.
func lateAnswers(t *testing.T, fake *clerktest.Fake) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		h := fnv.New32a()
		_, _ = io.WriteString(h, r.URL.Path+r.Header.Get("Content-Length")+fmt.Sprint(time.Now().UnixNano()))
		timer := time.NewTimer(time.Duration(h.Sum32()%40) * time.Millisecond)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// start starts the built command with env added to this process's
// environment; its stdout is a pipe, its stderr is kept.
func start(t *testing.T, env []string, args ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, bufio.NewReader(stdout), &stderr
}

// A run killed outright (kill -9: the OOM killer, a lost SSH session, a CI
// time-out) at several points, then resumed: no user ever holds two
// tokens. The users whose create was sent when the run died are listed and
// left alone; every other user ends with exactly one token.
func TestCreateFrom_killedThenResumed(t *testing.T) {
	t.Parallel()
	for _, killAfter := range []int{1, 9, 40, 95} {
		t.Run(fmt.Sprintf("after %d lines", killAfter), func(t *testing.T) {
			t.Parallel()
			fake := clerktest.New(clerktest.WithAnyUser())
			srv := lateAnswers(t, fake)
			path, users := usersFile(t, 100)
			out := filepath.Join(t.TempDir(), "out.jsonl")

			env := []string{"CLERK_SECRET_KEY=" + fake.SecretKey(), "CLERK_API_URL=" + srv.URL + "/v1"}
			cmd, stdout, _ := start(t, env, "create", "--from", path, "--rate", "0", "--concurrency", "4")
			var first bytes.Buffer
			for n := 0; ; n++ {
				line, err := stdout.ReadString('\n')
				first.WriteString(line)
				if n == killAfter {
					require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				}
				if err != nil {
					break
				}
			}
			_ = cmd.Wait()
			require.NoError(t, os.WriteFile(out, first.Bytes(), 0o600))

			r := run(t, env, "create", "--from", path, "--resume", out, "--rate", "0", "--concurrency", "4")
			held := heldBack(t, r.stderr)
			if len(held) > 0 {
				assert.Equal(t, 1, r.code, r.stderr)
				assert.Contains(t, r.stderr, bulk.CountUsers(len(held))+" may already have a token")
			}
			perUser := map[string]int{}
			for _, tok := range fake.SignInTokens() {
				perUser[tok.UserID]++
			}
			for _, u := range users {
				switch {
				case held[u]:
					assert.LessOrEqual(t, perUser[u], 1, "%s was held back", u)
				default:
					assert.Equal(t, 1, perUser[u], "tokens of %s", u)
				}
			}
			t.Logf("killed after %d lines: %d users held back, %d of them with a token", killAfter, len(held), countHeldWithToken(held, perUser))
		})
	}
}

// heldBack reads the users a resumed run listed as possibly holding a token.
func heldBack(t *testing.T, stderr string) map[string]bool {
	t.Helper()
	held := map[string]bool{}
	_, list, ok := strings.Cut(stderr, "to create theirs:\n")
	if !ok {
		return held
	}
	for _, l := range strings.Split(list, "\n") {
		if u, ok := strings.CutPrefix(l, "  "); ok && strings.HasPrefix(u, "user_") {
			held[u] = true
		}
	}
	return held
}

func countHeldWithToken(held map[string]bool, perUser map[string]int) int {
	n := 0
	for u := range held {
		n += perUser[u]
	}
	return n
}

// --resume reads any line the command wrote, whatever its length: an input
// ID of 2 MiB is reported as invalid, without a request, on a line of
// over 2 MiB, which a resumed run reads like any other.
func TestCreateFrom_longLineThenResume(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path := filepath.Join(t.TempDir(), "users.txt")
	long := "user_" + strings.Repeat("x", 2<<20)
	require.NoError(t, os.WriteFile(path, []byte("user_1\n"+long+"\nuser_2\n"), 0o600))
	stdout, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--rate", "0")
	assert.Equal(t, 1, code, stderr)
	lines := byKey(t, parseLines(t, stdout), "user_id")
	require.Len(t, lines, 3)
	require.NotNil(t, lines[long].Error)
	assert.Equal(t, "invalid_request", lines[long].Error.Kind)
	assert.Len(t, srv.Requests(), 2, "no request for the long ID")

	out := filepath.Join(t.TempDir(), "out.jsonl")
	require.NoError(t, os.WriteFile(out, []byte(stdout), 0o600))
	second, stderr, code := runInProcess(t, srv, nil, "create", "--from", path, "--resume", out, "--rate", "0")
	assert.Equal(t, 1, code, "the long ID fails again")
	assert.Contains(t, stderr, "1 failed, 2 skipped (done before)")
	var retried []journalLine
	for _, l := range parseLines(t, second) {
		if !l.Skipped {
			retried = append(retried, l)
		}
	}
	assert.Len(t, retried, 1)
}

// A resumed run retries a create that failed for certain, and holds back one
// whose failure may have made a token (a 503, a timeout), until told.
func TestCreateFrom_resumeUncertainFailures(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 3)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	journalOf := func(lines ...journalLine) string {
		var b strings.Builder
		b.WriteString(mustJSON(t, createHeader) + "\n")
		for i, l := range lines {
			l.Seq = uint64(i + 1)
			b.WriteString(mustJSON(t, l) + "\n")
		}
		return b.String()
	}
	require.NoError(t, os.WriteFile(out, []byte(journalOf(
		journalLine{UserID: users[0], Line: 3, Sending: true},
		journalLine{UserID: users[0], Line: 3, Error: &errorInfo{Kind: "api", StatusCode: 503}, Uncertain: true},
		journalLine{UserID: users[1], Line: 4, Sending: true},
		journalLine{UserID: users[1], Line: 4, Error: &errorInfo{Kind: "clerk", StatusCode: 422}},
		journalLine{UserID: users[2], Line: 5, Sending: true},
	)), 0o600))
	// Real processes, one after the other: two runs in this process would
	// meet the first one's lock in a child that another parallel test forks
	// (a lock belongs to the open file, which a fork shares until exec).
	r := run(t, serverEnv(srv), "create", "--from", path, "--resume", out, "--rate", "0")
	second, stderr, code := r.stdout, r.stderr, r.code
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "1 done, 0 failed, 0 skipped (done before), 0 duplicate, 0 not started, 2 held back")
	assert.Equal(t, map[string]bool{users[0]: true, users[2]: true}, heldBack(t, stderr))
	require.Len(t, srv.SignInTokens(), 1)
	assert.Equal(t, users[1], srv.SignInTokens()[0].UserID)

	appendFile(t, out, second) // as `cat second >> out.jsonl` does: a journal twice over
	r = run(t, serverEnv(srv), "create", "--from", path, "--resume", out, "--rate", "0", "--recreate-uncertain")
	stderr, code = r.stderr, r.code
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "2 done, 0 failed, 1 skipped (done before)")
	assertOneTokenEach(t, srv, users)
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(s)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// createHeader is the header of a create run with no options.
var createHeader = journal.NewHeader("create", "user_id")

// errorInfo is a line's error.
type errorInfo = journal.ErrorInfo
