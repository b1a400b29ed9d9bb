package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
)

// watchedText keeps what a command writes to it, safe to read while the
// command runs, and lets a test wait for a text to appear.
type watchedText struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newWatchedText() *watchedText { return &watchedText{changed: make(chan struct{})} }

func (w *watchedText) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	close(w.changed)
	w.changed = make(chan struct{})
	return len(p), nil
}

// String is the text written so far.
func (w *watchedText) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// waitFor returns once text has been written. The watchdog turns a hang
// into a failure; it is not a timing assertion.
func (w *watchedText) waitFor(t *testing.T, text string) {
	t.Helper()
	watchdog := time.NewTimer(30 * time.Second)
	defer watchdog.Stop()
	for {
		w.mu.Lock()
		found, changed := strings.Contains(w.b.String(), text), w.changed
		w.mu.Unlock()
		if found {
			return
		}
		select {
		case <-changed:
		case <-watchdog.C:
			t.Fatalf("%q never written; written: %q", text, w.String())
		}
	}
}

// ended waits for cmd to end and returns its exit status (-1 if a signal
// ended it). The watchdog turns a hang into a failure; it is not a timing
// assertion.
func ended(t *testing.T, cmd *exec.Cmd) (int, *os.ProcessState) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("waiting for the command: %v", err)
		}
		return cmd.ProcessState.ExitCode(), cmd.ProcessState
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the command did not end")
		return 0, nil
	}
}

// readOutcomes reads n outcome lines (not intents, nor the header) from r.
func readOutcomes(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var lines []string
	for len(lines) < n {
		line, err := r.ReadString('\n')
		require.NoError(t, err, "the command's output ended early")
		if !strings.Contains(line, `"sending":true`) && !strings.Contains(line, `"journal":"signintokens"`) {
			lines = append(lines, line)
		}
	}
	return lines
}

// Ctrl-C while stdin is open but sends nothing (a FIFO, a slow producer, a
// terminal): the run stops at once, writes its summary and exits 130.
func TestCreateFrom_interruptIdleStdin(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	cmd := exec.Command(bin, "create", "--from", "-", "--rate", "0")
	cmd.Env = append(os.Environ(), serverEnv(srv)...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	_, err = fmt.Fprint(stdin, "user_1\nuser_2\n")
	require.NoError(t, err)
	readOutcomes(t, bufio.NewReader(stdout), 2)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	code, _ := ended(t, cmd)
	assert.Equal(t, 130, code)
	assert.Contains(t, stderr.String(), "2 done, 0 failed")
	assert.Contains(t, stderr.String(), "interrupted, and the rest of the input was not read")
}

// Ctrl-C while calls wait for the rate limiter: nothing more is sent. At a
// rate of one call every 4 s, the calls waiting when the signal comes are
// never made, and the summary counts every ID left as not started.
func TestCreateFrom_interruptRateLimitWait(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 20)
	cmd, out, stderr := start(t, serverEnv(srv), "create", "--from", path, "--rate", "0.25", "--concurrency", "4")
	readOutcomes(t, out, 1)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	code, _ := ended(t, cmd)
	assert.Equal(t, 130, code)
	rest, _ := out.ReadString(0)
	done := 1 + len(parseLines(t, rest))
	assert.Len(t, srv.SignInTokens(), done, "a token for each line written, none for calls that were waiting")
	assert.Contains(t, stderr.String(), fmt.Sprintf("%d done, 0 failed, 0 skipped (done before), 0 duplicate, %d not started", done, len(users)-done))
}

// A second Ctrl-C ends the run at once, even while calls are in flight.
func TestCreateFrom_secondInterrupt(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select { // an answer that never comes while the test runs
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	path, _ := usersFile(t, 10)
	cmd := exec.Command(bin, "create", "--from", path, "--rate", "0", "--concurrency", "2")
	cmd.Env = append(os.Environ(), "CLERK_SECRET_KEY=sk_test_x", "CLERK_API_URL="+srv.URL+"/v1")
	cmd.Stdout = io.Discard // a pipe: a run recorded on /dev/null would not start
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	<-arrived

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT)) // waits for the calls in flight
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "Ctrl-C again to quit at once")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT)) // does not
	_, state := ended(t, cmd)
	ws, ok := state.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "ended by the second Ctrl-C: %v", state)
}

// A run stopped (SIGSTOP: a suspended laptop, a paused container) longer
// than --timeout while a create is in flight, whose answer came meanwhile,
// reads that answer when it resumes: the time it was stopped is not
// counted, and the user is done, not uncertain. A server that does not
// answer still times out.
func TestCreateFrom_stoppedProcessKeepsItsAnswer(t *testing.T) {
	t.Parallel()
	for _, stop := range []bool{true, false} {
		h := newHoldingServer(t, "user_s1", false)
		journal := filepath.Join(t.TempDir(), "j")
		cmd, stderr := startTo(t, h.env(), filepath.Join(t.TempDir(), "out"), "create", "--from",
			writeUsers(t, "user_s1"), "--journal", journal, "--rate", "0", "--timeout", "2s")
		<-h.held
		if !stop {
			code, _ := ended(t, cmd)
			assert.Equal(t, 1, code, stderr.String())
			assert.Contains(t, stderr.String(), "1 of them may have made a token")
			b, err := os.ReadFile(journal)
			require.NoError(t, err)
			assert.Contains(t, string(b), "no answer within the timeout (2s)")
			continue
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
		h.let()
		time.Sleep(5 * time.Second) // the length of the stop itself: two and a half timeouts' worth
		require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
		code, _ := ended(t, cmd)
		assert.Equal(t, 0, code, stderr.String())
		assert.Contains(t, stderr.String(), "1 done, 0 failed")
		assert.Equal(t, map[string]int{"user_s1": 1}, tokensPerUser(h.Fake))
	}
}

// With stdout and stderr on one terminal, a bulk run draws no progress
// line: it would share lines with the JSON lines. With stdout on a file, it
// draws one on the terminal.
func TestCreateFrom_progressLineOnlyBesideAFile(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	users, _ := usersFile(t, 5)
	out := filepath.Join(t.TempDir(), "out")
	for _, tt := range []struct {
		redirect string
		drawn    bool
	}{{"", false}, {" > " + out, true}} {
		cmd := exec.Command("script", "-qec", bin+" create --from "+users+" --rate 0"+tt.redirect, "/dev/null")
		cmd.Env = append(os.Environ(), serverEnv(srv)...)
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", b)
		assert.Equal(t, tt.drawn, strings.Contains(string(b), "\033[K"), "redirect %q: %q", tt.redirect, b)
		assert.Contains(t, string(b), "5 done, 0 failed")
	}
}
