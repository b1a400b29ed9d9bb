package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
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

// runTo runs the built command with its stdout on out, a file, as a
// shell's redirection makes it.
func runTo(t *testing.T, env []string, out *os.File, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	_ = cmd.Run()
	return result{"", stderr.String(), cmd.ProcessState.ExitCode()}
}

// journalOfRun is the stdout of a whole create run over users, as a file.
func journalOfRun(t *testing.T, srv *clerktest.Server, users string, args ...string) string {
	t.Helper()
	r := run(t, serverEnv(srv), append([]string{"create", "--from", users, "--rate", "0"}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	path := filepath.Join(t.TempDir(), "out.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(r.stdout), 0o600))
	return path
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// Every --resume file that would make the run create its users again is
// refused, exit 2, before any request: one emptied by the shell's > (as in
// --resume out > out), a missing one, the run's own stdout (>>), a revoke
// journal, the input file, jq -s output and a copy with the intent lines
// filtered out.
func TestCreateFrom_refusesResumeFile(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 5)
	journal := journalOfRun(t, srv, users)
	lines, err := os.ReadFile(journal)
	require.NoError(t, err)
	var outcomes, array []string
	for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		array = append(array, l)
		if !strings.Contains(l, `"sending":true`) {
			outcomes = append(outcomes, l)
		}
	}
	revoked := run(t, serverEnv(srv), "revoke", "--from", journal, "--rate", "0")
	require.Equal(t, 0, revoked.code, revoked.stderr)

	tests := []struct {
		name, resume, why string
		stdout            func(path string) *os.File // nil: a file of its own
	}{
		{"emptied by >", writeTemp(t, "out.jsonl", ""), "this run's stdout (a > empties it", func(p string) *os.File { return create(t, p, os.O_TRUNC) }},
		{"emptied", writeTemp(t, "empty.jsonl", ""), "is empty", nil},
		{"missing", filepath.Join(t.TempDir(), "typo.jsonl"), "no such file", nil},
		{"stdout itself (>>)", journal, "this run's stdout", func(p string) *os.File { return create(t, p, os.O_APPEND) }},
		{"a revoke journal", writeTemp(t, "revoke.jsonl", revoked.stdout), "is a revoke journal", nil},
		{"the input file", users, "not a signintokens journal", nil},
		{"jq -s output", writeTemp(t, "array.json", "["+strings.Join(array, ",")+"]\n"), "JSON array", nil},
		{"outcomes only", writeTemp(t, "outcomes.jsonl", strings.Join(outcomes, "\n")+"\n"), "lines before it are missing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			out := create(t, filepath.Join(t.TempDir(), "new.jsonl"), os.O_TRUNC)
			if tt.stdout != nil {
				out = tt.stdout(tt.resume)
			}
			r := runTo(t, serverEnv(srv), out, "create", "--from", users, "--resume", tt.resume, "--rate", "0")
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.why)
			assert.Contains(t, r.stderr, "nothing was sent")
			assert.Equal(t, before, len(srv.Requests()), "requests sent")
		})
	}
}

func create(t *testing.T, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// A chain of outputs (--resume out1 > out2, then --resume out2 > out3)
// loses nothing: each run carries the users the earlier ones settled.
func TestCreateFrom_chainOfOutputs(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	half, _ := usersFile(t, 10)
	all, users := usersFile(t, 20)
	out1 := journalOfRun(t, srv, half)
	out2 := journalOfRun(t, srv, all, "--resume", out1)
	r := run(t, serverEnv(srv), "create", "--from", all, "--resume", out2, "--rate", "0")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "0 done, 0 failed, 20 skipped")
	assertOneTokenEach(t, srv, users)
}

// A journal whose last line was cut (a kill or a full disk mid-write) is
// repaired before the next run appends, so that every line reads back.
func TestCreateFrom_journalCutLastLine(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	few, _ := usersFile(t, 5)
	all, users := usersFile(t, 8)
	path := filepath.Join(t.TempDir(), "run.jsonl")
	r := run(t, serverEnv(srv), "create", "--from", few, "--journal", path, "--rate", "0")
	require.Equal(t, 0, r.code, r.stderr)
	appendFile(t, path, `{"seq":11,"user_id":"user_000`) // cut mid-write

	r = run(t, serverEnv(srv), "create", "--from", all, "--journal", path, "--rate", "0")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "3 done, 0 failed, 5 skipped")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	p, complete, err := journal.ReadPrior(f, createHeader)
	require.NoError(t, err, "the journal reads back whole")
	fi, err := f.Stat()
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), complete, "no cut line is left")
	for _, u := range users {
		_, done := p.Done.Get(u)
		assert.True(t, done, u)
	}
	assertOneTokenEach(t, srv, users)
}

// A second run on a journal in use refuses at once, sending nothing.
func TestCreateFrom_journalLocked(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 20)
	journal := filepath.Join(t.TempDir(), "run.jsonl")
	first, out, _ := start(t, serverEnv(srv), "create", "--from", users, "--journal", journal, "--rate", "2", "--concurrency", "1")
	readOutcomes(t, out, 1)
	sent := len(srv.Requests())

	r := run(t, serverEnv(srv), "create", "--from", users, "--journal", journal, "--rate", "0")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "another run is using it")
	assert.LessOrEqual(t, len(srv.Requests()), sent+1, "only the first run's next call")
	require.NoError(t, first.Process.Signal(syscall.SIGTERM))
	code, _ := ended(t, first)
	assert.Equal(t, 128+int(syscall.SIGTERM), code)
}

// SIGHUP (a closed SSH session) and SIGTERM end a run as Ctrl-C does: the
// calls in flight finish and are written, the summary is printed, and the
// exit status is the signal's; every token made has its line.
func TestCreateFrom_signalsEndRunCleanly(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			fake := clerktest.New(clerktest.WithAnyUser())
			srv := lateAnswers(t, fake)
			users, _ := usersFile(t, 50)
			env := []string{"CLERK_SECRET_KEY=" + fake.SecretKey(), "CLERK_API_URL=" + srv.URL + "/v1"}
			cmd, out, stderr := start(t, env, "create", "--from", users, "--rate", "0", "--concurrency", "4")
			got := readOutcomes(t, out, 3)
			require.NoError(t, cmd.Process.Signal(sig))
			rest, _ := io.ReadAll(out)
			code, _ := ended(t, cmd)
			assert.Equal(t, 128+int(sig), code)
			assert.Contains(t, stderr.String(), "interrupted: run the same command again to resume")
			outcomes := len(got) + len(parseLines(t, string(rest)))
			assert.Equal(t, len(fake.SignInTokens()), outcomes, "a line for every token made")
		})
	}
}

// A closed pipe on stdout (| head, or a tee that Ctrl-C ended) ends the run
// with SIGPIPE's status and a summary, never silently: every token made is
// in the lines that got through or listed on stderr, and all of them are in
// the journal. A closed stdout (>&-) is found before the first call.
func TestCreateFrom_closedStdout(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 200)
	journal := filepath.Join(t.TempDir(), "run.jsonl")
	cmd := exec.Command(bin, "create", "--from", users, "--journal", journal, "--rate", "50", "--concurrency", "2")
	cmd.Env = append(os.Environ(), serverEnv(srv)...)
	pipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	head := bufio.NewReader(pipe)
	var seen strings.Builder
	for range 12 { // | head -n 12
		line, err := head.ReadString('\n')
		require.NoError(t, err)
		seen.WriteString(line)
	}
	require.NoError(t, pipe.Close())
	code, _ := ended(t, cmd)
	assert.Equal(t, 128+int(syscall.SIGPIPE), code, stderr.String())
	assert.Contains(t, stderr.String(), "signintokens create:")
	for _, tok := range srv.SignInTokens() {
		assert.True(t, strings.Contains(seen.String(), tok.ID) || strings.Contains(stderr.String(), tok.ID), "%s is nowhere on screen", tok.ID)
	}
	record, err := os.ReadFile(journal)
	require.NoError(t, err)
	for _, tok := range srv.SignInTokens() {
		assert.Contains(t, string(record), tok.ID, "the journal has every token")
	}

	before := len(srv.Requests())
	closed := exec.Command("sh", "-c", `exec "$0" "$@" >&-`, bin, "create", "--from", users, "--rate", "0")
	closed.Env = append(os.Environ(), serverEnv(srv)...)
	msg, _ := closed.CombinedOutput()
	assert.Equal(t, 2, closed.ProcessState.ExitCode(), "a refusal, as every other: %s", msg)
	assert.Contains(t, string(msg), "stdout: it is /dev/null or closed, and there is no --journal")
	assert.Equal(t, before, len(srv.Requests()), "nothing was sent")
}

// The run stops sending when every call would fail: a refused key at once,
// a run of 5XX answers after 3 in a row. Only the calls that were sent are
// held back by the resume, and it says so for them only.
func TestCreateFrom_stopsWhenCallsWouldFail(t *testing.T) {
	t.Parallel()
	t.Run("refused key", func(t *testing.T) {
		t.Parallel()
		srv := clerktest.NewServer(t, clerktest.WithAnyUser())
		users, _ := usersFile(t, 100)
		env := []string{"CLERK_SECRET_KEY=sk_test_wrong", "CLERK_API_URL=" + srv.URL}
		r := run(t, env, "create", "--from", users, "--rate", "0", "--concurrency", "4")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "Clerk refused the secret key (401)")
		assert.LessOrEqual(t, len(srv.Requests()), 4, "at most the calls in flight")
	})
	t.Run("an unreachable server", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		users, _ := usersFile(t, 100)
		env := []string{"CLERK_SECRET_KEY=sk_test_x", "CLERK_API_URL=http://" + addr + "/v1"}
		r := run(t, env, "create", "--from", users, "--rate", "0", "--concurrency", "2")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "trying again in", "each retry is said")
		assert.Contains(t, r.stderr, "connection refused")
		assert.Contains(t, r.stderr, "3 calls in a row failed with a server or connection error")
		assert.Regexp(t, `0 done, [34] failed`, r.stderr, "3 in a row, and the call in flight")
	})
	t.Run("an outage", func(t *testing.T) {
		t.Parallel()
		srv := clerktest.NewServer(t, clerktest.WithAnyUser())
		srv.FailNext(40, clerktest.Fault{Status: http.StatusServiceUnavailable})
		users, _ := usersFile(t, 100)
		journal := filepath.Join(t.TempDir(), "run.jsonl")
		r := run(t, serverEnv(srv), "create", "--from", users, "--journal", journal, "--rate", "0", "--concurrency", "2")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "calls in a row failed with a server or connection error")
		sent := len(srv.Requests())
		assert.LessOrEqual(t, sent, 4, "3 in a row, and the call in flight")

		r = run(t, serverEnv(srv), "create", "--from", users, "--journal", journal, "--rate", "0", "--concurrency", "2")
		held := heldBack(t, r.stderr)
		assert.Len(t, held, sent, "only the creates that were sent are held back")
		assert.Contains(t, r.stderr, bulk.CountUsers(sent)+" may already have a token")
	})
}

// A 429 whose Retry-After is longer than the client waits by itself pauses
// the run, which says so, and then goes on: nothing fails.
func TestCreateFrom_waitsOutLong429(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.FailNext(1, clerktest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"11"}}})
	users, all := usersFile(t, 5)
	r := run(t, serverEnv(srv), "create", "--from", users, "--rate", "0", "--concurrency", "1")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "rate limited (429): the run waits until")
	assertOneTokenEach(t, srv, all)
}

// A revoke run killed in flight and resumed, twice, ends done: a token the
// run had sent a revoke for answers "cannot be revoked", and that is its
// outcome. revoke --from reads a create journal, and has no
// --recreate-uncertain.
func TestRevokeFrom_killedAndResumed(t *testing.T) {
	t.Parallel()
	fake := clerktest.New(clerktest.WithAnyUser())
	srv := lateAnswers(t, fake)
	env := []string{"CLERK_SECRET_KEY=" + fake.SecretKey(), "CLERK_API_URL=" + srv.URL + "/v1"}
	users, _ := usersFile(t, 30)
	created := filepath.Join(t.TempDir(), "created.jsonl")
	require.Equal(t, 0, runTo(t, env, create(t, created, os.O_TRUNC), "create", "--from", users, "--rate", "0").code)

	journal := filepath.Join(t.TempDir(), "revoke.jsonl")
	args := []string{"revoke", "--from", created, "--journal", journal, "--rate", "0", "--concurrency", "4"}
	cmd, out, _ := start(t, env, args...)
	readOutcomes(t, out, 5)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_, _ = ended(t, cmd)

	for range 2 {
		r := run(t, env, args...)
		assert.Equal(t, 0, r.code, r.stderr)
	}
	for _, tok := range fake.SignInTokens() {
		assert.Equal(t, "revoked", string(tok.Status), tok.ID)
	}
	r := run(t, env, "revoke", "--from", created, "--journal", journal, "--recreate-uncertain")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -recreate-uncertain")
}

// The held-back list names the users of this input only.
func TestCreateFrom_heldBackOfThisInput(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	var journal strings.Builder
	journal.WriteString(mustJSON(t, createHeader) + "\n")
	for i, u := range []string{"user_a", "user_b", "user_c", "user_d"} {
		journal.WriteString(mustJSON(t, journalLine{Seq: uint64(i + 1), UserID: u, Line: i + 1, Sending: true}) + "\n")
	}
	path := writeTemp(t, "run.jsonl", journal.String())
	input := writeTemp(t, "users.txt", "user_b\nuser_e\n")
	r := run(t, serverEnv(srv), "create", "--from", input, "--journal", path, "--rate", "0")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "1 held back")
	assert.Equal(t, map[string]bool{"user_b": true}, heldBack(t, r.stderr))
}

// What is not one ID per line, a CSV with the ID column or a create journal
// is refused before any request; a semicolon or tab CSV with the column is
// read. An error anywhere in a file is found before the first call.
func TestCreateFrom_input(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	var broken strings.Builder
	broken.WriteString("user_id,email\n")
	for i := range 30 {
		if i == 10 {
			broken.WriteString("user_bad,\"unclosed\n") // line 12 of 31
			continue
		}
		fmt.Fprintf(&broken, "user_b%d,b%d@example.com\n", i, i)
	}
	tests := []struct {
		name, content string
		code, sent    int
		why           string
	}{
		{"semicolon CSV", "email;user_id\na@example.com;user_s1\nb@example.com;user_s2\n", 0, 2, ""},
		{"tab CSV", "user_id\temail\nuser_t1\ta@example.com\n", 0, 1, ""},
		{"semicolon CSV without user_id", "id;email\nuser_x;a@example.com\n", 2, 0, `separated by ';' and has no user_id column`},
		{"UTF-16", "\xff\xfeu\x00s\x00e\x00r\x00_\x001\x00\n\x00", 2, 0, "UTF-16"},
		{"NUL bytes", "user_1\nuser\x002\n", 2, 0, "line 2 holds a NUL byte"},
		{"a CSV error on line 12 of 31", broken.String(), 2, 0, "line 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			r := run(t, serverEnv(srv), "create", "--from", writeTemp(t, "in.txt", tt.content), "--rate", "0")
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.why)
			assert.Equal(t, tt.sent, len(srv.Requests())-before, "requests sent")
		})
	}
}

// Every intent line is on disk before its request goes out: under strace,
// each write of a sending line to the journal is followed by an fdatasync
// of the journal before the next request is written to the server. One
// call at a time, so that the order is the run's.
func TestCreateFrom_syncsIntentBeforeSending(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed (apt-get install strace)")
	}
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 5)
	journal := filepath.Join(t.TempDir(), "run.jsonl")
	trace := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=write,fdatasync", "-e", "signal=none", "-s", "64", "-o", trace,
		bin, "create", "--from", users, "--journal", journal, "--rate", "0", "--concurrency", "1")
	cmd.Env = append(os.Environ(), serverEnv(srv)...)
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "ptrace") {
		t.Skipf("strace cannot trace here: %s", out)
	}
	require.NoError(t, err, "%s", out)
	b, err := os.ReadFile(trace)
	require.NoError(t, err)

	// strace writes a call that another thread's call interrupts as
	// "fdatasync(5 <unfinished ...>" and, later, "<... fdatasync resumed>":
	// the sync has happened when its thread's call resumes.
	journalFD, pending, sends := "", false, 0
	syncing := map[string]bool{} // threads inside an fdatasync of the journal
	for _, l := range strings.Split(string(b), "\n") {
		pid, call, _ := strings.Cut(l, " ")
		call = strings.TrimSpace(call) // strace pads the pid
		switch {
		case strings.Contains(call, `\"sending\":true`):
			fd := call[len("write("):strings.IndexByte(call, ',')]
			if journalFD == "" {
				journalFD = fd // the journal's line comes first, then stdout's
			}
			pending = pending || fd == journalFD
		case journalFD != "" && strings.HasPrefix(call, "fdatasync("+journalFD+")"):
			pending = false
		case journalFD != "" && strings.HasPrefix(call, "fdatasync("+journalFD+" <unfinished"):
			syncing[pid] = true
		case syncing[pid] && strings.HasPrefix(call, "<... fdatasync resumed>"):
			delete(syncing, pid)
			pending = false
		case strings.Contains(call, "POST /v1/sign_in_tokens"):
			sends++
			assert.False(t, pending, "a create was sent before its intent line was synced:\n%s", l)
		}
	}
	assert.Equal(t, 5, sends, "creates seen in the trace")
}

// Kills at random moments and at random concurrency, each followed by the
// same command on the same journal, until a run ends by itself: no user
// ever has two tokens, and every user is done or held back.
func TestCreateFrom_killLoopOnOneJournal(t *testing.T) {
	t.Parallel()
	for round := range 4 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			t.Parallel()
			fake := clerktest.New(clerktest.WithAnyUser())
			srv := lateAnswers(t, fake)
			env := []string{"CLERK_SECRET_KEY=" + fake.SecretKey(), "CLERK_API_URL=" + srv.URL + "/v1"}
			path, users := usersFile(t, 60)
			journal := filepath.Join(t.TempDir(), "run.jsonl")
			seed := time.Now().UnixNano() + int64(round)
			t.Logf("seed %d", seed)
			rnd := newRand(seed)
			var last result
			for kills := 0; ; kills++ {
				args := []string{"create", "--from", path, "--journal", journal, "--rate", "0", "--concurrency", fmt.Sprint(1 + rnd.IntN(8))}
				if kills == 5 {
					last = run(t, env, args...)
					break
				}
				cmd, out, _ := start(t, env, args...)
				for n := rnd.IntN(30); n > 0; n-- {
					if _, err := out.ReadString('\n'); err != nil {
						break
					}
				}
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
				_, _ = ended(t, cmd)
			}
			held := heldBack(t, last.stderr)
			perUser := map[string]int{}
			for _, tok := range fake.SignInTokens() {
				perUser[tok.UserID]++
			}
			for _, u := range users {
				if held[u] {
					assert.LessOrEqual(t, perUser[u], 1, "%s was held back", u)
				} else {
					assert.Equal(t, 1, perUser[u], "tokens of %s", u)
				}
			}
		})
	}
}

// newRand is a random source whose seed the test logs, to replay a failure.
func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0)) }
