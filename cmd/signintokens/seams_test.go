package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
)

// holdingServer is the fake behind a handler that holds the create for one
// user: it says so on held, then waits for release. With cut set, the fake
// makes the token and half of its answer is sent before the hold; after
// it, the connection is cut.
type holdingServer struct {
	*clerktest.Fake
	URL     string
	user    string
	cut     bool
	held    chan struct{}
	release chan struct{}
	once    sync.Once
	taken   atomic.Bool // the first create for user was held
}

func newHoldingServer(t *testing.T, user string, cut bool) *holdingServer {
	t.Helper()
	h := &holdingServer{Fake: clerktest.New(clerktest.WithAnyUser()), user: user, cut: cut,
		held: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	t.Cleanup(h.let)
	h.URL = srv.URL + "/v1"
	return h
}

func (h *holdingServer) let() { h.once.Do(func() { close(h.release) }) }

func (h *holdingServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if !strings.Contains(string(body), `"`+h.user+`"`) || !h.taken.CompareAndSwap(false, true) {
		h.Fake.ServeHTTP(w, r)
		return
	}
	if !h.cut {
		close(h.held)
		<-h.release
		h.Fake.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.Fake.ServeHTTP(rec, r) // the token is made
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", "4096")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
	w.(http.Flusher).Flush()
	close(h.held)
	<-h.release
	panic(http.ErrAbortHandler) // the rest of the answer is lost
}

func (h *holdingServer) env() []string {
	return []string{"CLERK_SECRET_KEY=" + h.SecretKey(), "CLERK_API_URL=" + h.URL}
}

// tokensPerUser counts the live and revoked tokens the fake made for each user.
func tokensPerUser(f *clerktest.Fake) map[string]int {
	n := map[string]int{}
	for _, tok := range f.SignInTokens() {
		n[tok.UserID]++
	}
	return n
}

// writeUsers writes the users, one per line, to a new file.
func writeUsers(t *testing.T, users ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.txt")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(users, "\n")+"\n"), 0o600))
	return path
}

// startTo starts the command with stdout on the file at path (as a shell's
// > would: created, emptied), stderr kept.
func startTo(t *testing.T, env []string, path string, args ...string) (*exec.Cmd, *watchedText) {
	t.Helper()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	require.NoError(t, err)
	defer out.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr := newWatchedText()
	cmd.Stdout, cmd.Stderr = out, stderr
	require.NoError(t, cmd.Start())
	return cmd, stderr
}

// runToFile runs the command with stdout on the file at path, emptied first
// (>), or appended to (>>) with appendTo.
func runToFile(t *testing.T, env []string, path string, appendTo bool, args ...string) (int, string) {
	t.Helper()
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	out, err := os.OpenFile(path, flags, 0o600)
	require.NoError(t, err)
	defer out.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	err = cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); err != nil {
		require.ErrorAs(t, err, &ee)
		code = ee.ExitCode()
	}
	return code, stderr.String()
}

// A chain of stdout outputs (> out1, --resume out1 > out2, --resume out2 >
// out3) whose middle run is stopped by Ctrl-C at its first create: out2
// holds every user out1 settled, token IDs included, so the last run
// creates no second token and revoke --from its output revokes them all.
func TestCreateFrom_chainStoppedEarly(t *testing.T) {
	t.Parallel()
	old := []string{"user_a1", "user_a2", "user_a3", "user_a4", "user_a5"}
	fresh := []string{"user_b1", "user_b2", "user_b3"}
	h := newHoldingServer(t, fresh[0], false)
	dir := t.TempDir()
	out1, out2, out3 := filepath.Join(dir, "out1"), filepath.Join(dir, "out2"), filepath.Join(dir, "out3")
	code, stderr := runToFile(t, h.env(), out1, false, "create", "--from", writeUsers(t, old...), "--rate", "0")
	require.Equal(t, 0, code, stderr)

	// The new users come first in the input, so the middle run is stopped
	// before it reads the old ones.
	all := writeUsers(t, append(append([]string(nil), fresh...), old...)...)
	cmd, stderr2 := startTo(t, h.env(), out2, "create", "--from", all, "--resume", out1, "--rate", "0", "--concurrency", "1")
	<-h.held
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	stderr2.waitFor(t, "signintokens: stopping")
	h.let()
	code, _ = ended(t, cmd)
	require.Equal(t, 130, code)

	code, stderr = runToFile(t, h.env(), out3, false, "create", "--from", all, "--resume", out2, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	for user, n := range tokensPerUser(h.Fake) {
		assert.Equal(t, 1, n, "tokens of %s", user)
	}
	assert.Len(t, tokensPerUser(h.Fake), len(old)+len(fresh))

	code, stderr = runToFile(t, h.env(), filepath.Join(dir, "revoked"), false, "revoke", "--from", out3, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	for _, tok := range h.SignInTokens() {
		assert.Equal(t, "revoked", string(tok.Status), "token of %s", tok.UserID)
	}
}

// --journal FILE with stdout on the same file (> FILE, or >> FILE) is
// refused before any call; so is a journal that exists but is empty (what
// a > leaves behind): resuming from it would create every user again.
func TestCreateFrom_journalIsStdout(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 5)
	journal := filepath.Join(t.TempDir(), "run.jsonl")
	code, stderr := runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", journal, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	require.Len(t, srv.SignInTokens(), 5)

	for _, appendTo := range []bool{true, false} {
		code, stderr = runToFile(t, serverEnv(srv), journal, appendTo, "create", "--from", users, "--journal", journal, "--rate", "0")
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, "nothing was sent")
	}
	code, stderr = runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", journal, "--rate", "0")
	assert.Equal(t, 2, code, "the journal a > emptied: %s", stderr)
	assert.Contains(t, stderr, "empty")
	assert.Len(t, srv.SignInTokens(), 5, "no second token")
}

// A resume of an output that a run still writes is refused: the run
// writing it holds its lock (with or without --journal).
func TestCreateFrom_resumeOfRunStillWriting(t *testing.T) {
	t.Parallel()
	for _, withJournal := range []bool{false, true} {
		h := newHoldingServer(t, "user_c2", false)
		dir := t.TempDir()
		users := writeUsers(t, "user_c1", "user_c2", "user_c3")
		args := []string{"create", "--from", users, "--rate", "0", "--concurrency", "1"}
		if withJournal {
			args = append(args, "--journal", filepath.Join(dir, "j"))
		}
		cmd, stderr := startTo(t, h.env(), filepath.Join(dir, "a.jsonl"), args...)
		<-h.held
		code, out := runToFile(t, h.env(), filepath.Join(dir, "b.jsonl"), false, "create", "--from", users,
			"--resume", filepath.Join(dir, "a.jsonl"), "--rate", "0")
		assert.Equal(t, 2, code, "journal %v: %s", withJournal, out)
		assert.Contains(t, out, "another run")
		h.let()
		code, _ = ended(t, cmd)
		require.Equal(t, 0, code, stderr.String())
		for user, n := range tokensPerUser(h.Fake) {
			assert.Equal(t, 1, n, "tokens of %s", user)
		}
	}
}

// Ctrl-C while a made create's answer is cut mid-body records the create
// as uncertain, as it is without Ctrl-C: the next run holds the user back.
func TestCreateFrom_interruptDuringCutAnswer(t *testing.T) {
	t.Parallel()
	h := newHoldingServer(t, "user_d1", true)
	journal := filepath.Join(t.TempDir(), "j")
	users := writeUsers(t, "user_d1")
	cmd, _ := startTo(t, h.env(), filepath.Join(t.TempDir(), "out"), "create", "--from", users, "--journal", journal, "--rate", "0")
	<-h.held
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	h.let()
	ended(t, cmd)

	f, err := os.Open(journal)
	require.NoError(t, err)
	defer f.Close()
	var last journalLine
	for sc := bufio.NewScanner(f); sc.Scan(); {
		last = journalLine{}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &last))
	}
	assert.True(t, last.Uncertain, "the outcome of a create whose answer was cut: %+v", last)

	code, stderr := runToFile(t, h.env(), filepath.Join(t.TempDir(), "out2"), false, "create", "--from", users, "--journal", journal, "--rate", "0")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "may already have a token")
	assert.Equal(t, map[string]int{"user_d1": 1}, tokensPerUser(h.Fake))
}

// A journal the command accepts once, it accepts again: with CRLF line
// ends (a copy through a Windows tool), every run resumes from it, no user
// gets a second token. A header with a field this version does not know is
// refused from the first run on, never after one run appended to it.
func TestCreateFrom_journalAcceptedOnceAcceptedAgain(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 4)
	crlf := filepath.Join(t.TempDir(), "crlf.jsonl")
	code, stderr := runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", crlf, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(crlf)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(crlf, []byte(strings.ReplaceAll(string(b), "\n", "\r\n")), 0o600))
	for run := range 3 {
		code, stderr = runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", crlf, "--rate", "0")
		assert.Equal(t, 0, code, "run %d: %s", run, stderr)
	}
	assert.Len(t, srv.SignInTokens(), 4, "no second token")

	extra := filepath.Join(t.TempDir(), "extra.jsonl")
	require.NoError(t, os.WriteFile(extra, []byte(`{"journal":"signintokens","version":1,"kind":"create","note":"x"}`+"\n"), 0o600))
	for run := range 2 {
		code, stderr = runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", extra, "--rate", "0")
		assert.Equal(t, 2, code, "run %d: %s", run, stderr)
	}
	assert.Len(t, srv.SignInTokens(), 4, "nothing sent")
}

// SIGQUIT stops a bulk run as SIGTERM does: the call in flight finishes
// and is recorded, and the exit status is 128 + 3.
func TestCreateFrom_sigquit(t *testing.T) {
	t.Parallel()
	h := newHoldingServer(t, "user_q1", false)
	journal := filepath.Join(t.TempDir(), "j")
	cmd, stderr := startTo(t, h.env(), filepath.Join(t.TempDir(), "out"), "create", "--from",
		writeUsers(t, "user_q1", "user_q2"), "--journal", journal, "--rate", "0", "--concurrency", "1")
	<-h.held
	require.NoError(t, cmd.Process.Signal(syscall.SIGQUIT))
	stderr.waitFor(t, "stopping on quit") // the run has stopped starting calls
	h.let()
	code, _ := ended(t, cmd)
	assert.Equal(t, 128+int(syscall.SIGQUIT), code, stderr.String())
	assert.Contains(t, stderr.String(), "1 done")
	assert.Equal(t, map[string]int{"user_q1": 1}, tokensPerUser(h.Fake))
}

// The summary gives the rate of calls that went out, or says nothing was
// sent, and counts the answers of 429 the run met; a signal other than
// Ctrl-C is named in the stop notice, not answered with "Ctrl-C again".
func TestCreateFrom_summarySaysWhatHappened(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 3)
	journal := filepath.Join(t.TempDir(), "j")
	srv.FailNext(2, clerktest.Fault{Status: 429, Header: http.Header{"Retry-After": {"0"}}})
	code, stderr := runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", journal, "--rate", "0", "--concurrency", "1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, ", 2 answers of 429)")
	assert.Regexp(t, `\(\d+/s`, stderr)

	code, stderr = runToFile(t, serverEnv(srv), filepath.Join(t.TempDir(), "out"), false, "create", "--from", users, "--journal", journal, "--rate", "0")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "3 skipped (done before)")
	assert.Contains(t, stderr, "(nothing was sent)")

	h := newHoldingServer(t, "user_t1", false)
	cmd, out := startTo(t, h.env(), filepath.Join(t.TempDir(), "out"), "create", "--from", writeUsers(t, "user_t1"), "--rate", "0")
	<-h.held
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	out.waitFor(t, "stopping on terminated")
	h.let()
	code, _ = ended(t, cmd)
	assert.Equal(t, 128+int(syscall.SIGTERM), code)
	assert.Contains(t, out.String(), "stopping on terminated")
	assert.NotContains(t, out.String(), "Ctrl-C again")
}

// A run refused before its first call writes nothing anywhere: no header
// on stdout, no journal. An input that grows while a run reads it is read
// whole, and nothing is counted as "not started" below zero.
func TestCreateFrom_refusedWritesNothingGrowingInputCounted(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	dir := t.TempDir()
	utf16 := filepath.Join(dir, "users16.txt")
	require.NoError(t, os.WriteFile(utf16, []byte("\xff\xfeu\x00s\x00"), 0o600))
	out, journal := filepath.Join(dir, "out"), filepath.Join(dir, "j")
	code, stderr := runToFile(t, serverEnv(srv), out, false, "create", "--from", utf16, "--journal", journal, "--rate", "0")
	assert.Equal(t, 2, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Empty(t, b, "nothing on stdout")
	assert.NoFileExists(t, journal)

	h := newHoldingServer(t, "user_g1", false)
	users := writeUsers(t, "user_g1", "user_g2")
	cmd, stderr2 := startTo(t, h.env(), filepath.Join(dir, "out2"), "create", "--from", users, "--rate", "0", "--concurrency", "1")
	<-h.held
	f, err := os.OpenFile(users, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	for i := range 30 {
		fmt.Fprintf(f, "user_more%d\n", i)
	}
	require.NoError(t, f.Close())
	h.let()
	code, _ = ended(t, cmd)
	assert.Equal(t, 0, code, stderr2.String())
	assert.Contains(t, stderr2.String(), "32 done, 0 failed, 0 skipped (done before), 0 duplicate, 0 not started")
}
