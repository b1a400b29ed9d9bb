package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/idinput"
	"github.com/clerkgo/signintokens/internal/journal"
)

var createHeader = journal.NewHeader("create", "user_id")

// createJob creates a token for each user with cl.
func createJob(cl *client.Client) Job {
	return Job{Name: "create", Header: createHeader, Creates: true,
		Send: func(ctx context.Context, id string) (Made, error) {
			res, err := cl.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: id})
			if err != nil {
				return Made{}, err
			}
			return Made{ID: res.SignInToken.ID, Status: string(res.SignInToken.Status)}, nil
		}}
}

func input(t *testing.T, ids ...string) *idinput.Reader {
	t.Helper()
	in, err := idinput.New(strings.NewReader(strings.Join(ids, "\n")+"\n"), "user_id", "")
	require.NoError(t, err)
	return in
}

// outLine is a line as the run writes it.
type outLine struct {
	UserID      string `json:"user_id"`
	Line        int    `json:"line"`
	Sending     bool   `json:"sending"`
	ID          string `json:"id"`
	DuplicateOf int    `json:"duplicate_of"`
	HeldBack    bool   `json:"held_back"`
}

func outcomes(t *testing.T, out string) map[string]outLine {
	t.Helper()
	m := map[string]outLine{}
	for l := range strings.Lines(out) {
		var o outLine
		require.NoError(t, json.Unmarshal([]byte(l), &o))
		if !o.Sending {
			_, dup := m[o.UserID]
			require.False(t, dup || o.DuplicateOf != 0 && m[o.UserID].ID == "", "two outcomes for %s", o.UserID)
			m[o.UserID] = o
		}
	}
	return m
}

// Each outcome is written as soon as it is known, with its input line:
// one line per ID, whatever order the calls finish in.
func TestRun_writesEachOutcome(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	const n, concurrency = 3000, 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("user_", i)
	}
	bar := NewProgress(io.Discard, nil, nil)
	cl := srv.Client(ClientOptions(srv.HTTPClient(), bar, 10*time.Second)...)
	var out bytes.Buffer
	w := journal.NewWriter(createHeader, func() {}, journal.Sink{W: &out})
	st := Run(context.Background(), createJob(cl), input(t, ids...), Options{Concurrency: concurrency}, w, bar)
	assert.Equal(t, n, st.Done)
	assert.Equal(t, n, st.Sent)
	lines := outcomes(t, out.String())
	require.Len(t, lines, n)
	for i, id := range ids {
		assert.Equal(t, i+1, lines[id].Line)
	}
	assert.Len(t, srv.SignInTokens(), n)
}

// syncLog is a sink that keeps what was synced apart from what was only
// written.
type syncLog struct {
	mu              sync.Mutex
	written, synced string
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written += string(p)
	return len(p), nil
}

func (s *syncLog) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced = s.written
	return nil
}

func (s *syncLog) durable() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced
}

// Every create's intent is durable before its request reaches the server,
// at any concurrency; an ID whose earlier create is uncertain is held
// back, one done before is skipped, and a duplicate is not sent.
func TestRun_intentDurableBeforeSend(t *testing.T) {
	t.Parallel()
	fake := clerktest.New(clerktest.WithAnyUser())
	log := &syncLog{}
	var early []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			UserID string `json:"user_id"`
		}
		_ = json.Unmarshal(body, &req)
		if !regexp.MustCompile(`"user_id":"` + regexp.QuoteMeta(req.UserID) + `","line":\d+,"sending":true`).MatchString(log.durable()) {
			mu.Lock()
			early = append(early, req.UserID)
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	bar := NewProgress(io.Discard, nil, nil)
	cl, err := client.New(append(ClientOptions(srv.Client(), bar, 10*time.Second), client.WithSecretKey(fake.SecretKey()),
		client.WithServerURL(srv.URL+"/v1"))...)
	require.NoError(t, err)
	prior := journal.NewPrior()
	require.NoError(t, prior.Done.Put("user_done", journal.DoneBit))
	prior.Uncertain["user_maybe"] = 7
	ids := []string{"user_done", "user_maybe", "user_a", "user_a"}
	for i := range 40 {
		ids = append(ids, fmt.Sprint("user_", i))
	}
	w := journal.NewWriter(createHeader, func() {}, journal.Sink{W: log, Sync: log.sync})
	st := Run(context.Background(), createJob(cl), input(t, ids...), Options{Concurrency: 8, Prior: prior}, w, bar)
	assert.Empty(t, early, "creates sent before their intent was durable")
	assert.Equal(t, Stats{Done: 41, Skipped: 1, Duplicate: 1, HeldBack: 1, Held: []string{"user_maybe"}, Read: 44, Sent: 41},
		withoutTime(st))
	assert.Len(t, fake.SignInTokens(), 41)
}

func withoutTime(st Stats) Stats { st.Took = 0; return st }

// With Recreate, an uncertain ID is created again (the operator checked).
func TestRun_recreate(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	bar := NewProgress(io.Discard, nil, nil)
	cl := srv.Client(ClientOptions(srv.HTTPClient(), bar, 10*time.Second)...)
	prior := journal.NewPrior()
	prior.Uncertain["user_maybe"] = 1
	var out bytes.Buffer
	w := journal.NewWriter(createHeader, func() {}, journal.Sink{W: &out})
	st := Run(context.Background(), createJob(cl), input(t, "user_maybe"), Options{Concurrency: 1, Prior: prior, Recreate: true}, w, bar)
	assert.Equal(t, 1, st.Done)
	assert.NotEmpty(t, outcomes(t, out.String())["user_maybe"].ID)
}

// Three server failures in a row stop the run: calls in flight finish,
// no further create is sent, and each one sent is recorded as uncertain.
func TestRun_stopsOnOutage(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.FailNext(100, clerktest.Fault{Status: 500})
	var stderr bytes.Buffer
	bar := NewProgress(&stderr, nil, nil)
	cl := srv.Client(append(ClientOptions(srv.HTTPClient(), bar, 10*time.Second), client.WithRetryPolicy(client.RetryPolicy{}))...)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprint("user_", i)
	}
	var out bytes.Buffer
	w := journal.NewWriter(createHeader, func() {}, journal.Sink{W: &out})
	st := Run(context.Background(), createJob(cl), input(t, ids...), Options{Concurrency: 1}, w, bar)
	assert.Equal(t, 3, st.Failed)
	assert.Equal(t, 3, st.MaybeMade)
	assert.Contains(t, st.Stopped, "3 calls in a row failed")
	assert.Contains(t, stderr.String(), "signintokens: stopping: 3 calls in a row failed")
	assert.Len(t, srv.Requests(), 3)
}

// The progress line is cleared before a message, shows one share of the
// input's finished IDs, ends with a final frame, and fits the terminal.
func TestProgress(t *testing.T) {
	t.Parallel()
	var tty, stderr bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&stderr, &tty, func() int { return 30 })
	p.now = func() time.Time { return now }
	p.Start(10)
	now = now.Add(time.Second)
	p.show(Stats{Done: 2, Failed: 1, Skipped: 2})
	assert.Equal(t, "\r[ 50%] 2 done, 1 failed, 3/s,\033[K", tty.String(), "29 columns at most")
	tty.Reset()
	p.Say("signintokens: stopping")
	assert.Equal(t, "\r\033[K", tty.String(), "the line is cleared first")
	assert.Equal(t, "signintokens: stopping\n", stderr.String())
	tty.Reset()
	p.End(Stats{Done: 7, Failed: 1, Skipped: 2})
	assert.Equal(t, "\r[100%] 7 done, 1 failed, 8/s,\033[K\n", tty.String(), "a final frame, left on its line")
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	st := Stats{Done: 450, Failed: 50, Skipped: 100, Read: 600}
	tests := []struct {
		total  int
		paused time.Duration
		want   string
	}{
		{1000, 0, "[ 60%] 450 done, 50 failed, 100/s, 4s left"},
		{1000, 30 * time.Second, "[ 60%] 450 done, 50 failed, 100/s, 34s left"},
		{-1, 0, "450 done, 50 failed, 100/s"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, progressLine(st, tt.total, 5*time.Second, tt.paused))
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		st          Stats
		total       int
		interrupted bool
		want        string
	}{
		{Stats{Done: 2, Sent: 2, Took: time.Second}, 2, false,
			"signintokens create: 2 done, 0 failed, 0 skipped (done before), 0 duplicate, 0 not started in 1s (2/s)"},
		{Stats{Skipped: 3, Took: time.Millisecond}, 3, false,
			"signintokens create: 0 done, 0 failed, 3 skipped (done before), 0 duplicate, 0 not started in 1ms (nothing was sent)"},
		{Stats{Done: 1, Failed: 1, MaybeMade: 1, HeldBack: 1, NotStarted: 4, Sent: 2, Met429: 2, Took: 2 * time.Second}, -1, true,
			"signintokens create: 1 done, 1 failed (1 of them may have made a token: their create was sent), 0 skipped " +
				"(done before), 0 duplicate, 4 not started, 1 held back (may already have a token) in 2s (1/s, 2 answers of 429); " +
				"interrupted, and the rest of the input was not read: run the same command again to resume"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.st.Summary("create", tt.total, tt.interrupted, false))
	}
}

// During a 429's pause, when no call ends, the progress line still moves:
// its wait counts down, and the time left includes it.
func TestProgress_movesDuringPause(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var tty lockedBuffer
		p := NewProgress(io.Discard, &tty, nil)
		p.Start(10)
		time.Sleep(time.Second) // fake time: a second of calls
		st := Stats{Done: 5}
		p.pause(time.Now().Add(30 * time.Second))
		stop := p.redrawWhileIdle(func() Stats { return st })
		defer stop()
		time.Sleep(3500 * time.Millisecond)
		for _, want := range []string{"waiting 29s (429)", "waiting 28s (429)", "waiting 27s (429)"} {
			assert.Contains(t, tty.String(), want, "redrawn once a second")
		}
		assert.Contains(t, tty.String(), "1/s, 31s left, waiting 27s", "5 left at about 1/s, after the pause's 27 s")
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// blockingSync is a sink whose syncs wait until release is closed, as a
// slow disk's fdatasync does.
type blockingSync struct {
	syncLog
	syncing chan struct{} // closed at the first sync
	release chan struct{}
	once    sync.Once
}

func (b *blockingSync) sync() error {
	b.once.Do(func() { close(b.syncing) })
	<-b.release
	return b.syncLog.sync()
}

// A signal that comes while a create's intent line is being synced stops
// that create: nothing is sent after the signal, and its line says it was
// not sent. An uncertain ID twice in the input is held back once, and the
// second is a duplicate.
func TestRun_stopDuringIntentSync(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	bar := NewProgress(io.Discard, nil, nil)
	cl := srv.Client(ClientOptions(srv.HTTPClient(), bar, 10*time.Second)...)
	disk := &blockingSync{syncing: make(chan struct{}), release: make(chan struct{})}
	w := journal.NewWriter(createHeader, func() {}, journal.Sink{W: disk, Sync: disk.sync})
	prior := journal.NewPrior()
	prior.Uncertain["user_maybe"] = 1
	ctx, signal := context.WithCancel(context.Background())
	go func() {
		<-disk.syncing
		signal()
		close(disk.release)
	}()
	st := Run(ctx, createJob(cl), input(t, "user_maybe", "user_maybe", "user_1", "user_2"), Options{Concurrency: 1, Prior: prior}, w, bar)
	assert.Empty(t, srv.Requests(), "nothing sent after the signal")
	assert.Equal(t, 1, st.HeldBack)
	assert.Equal(t, []string{"user_maybe"}, st.Held)
	assert.Equal(t, 1, st.Duplicate)
	assert.Equal(t, 0, st.Sent)
	assert.Contains(t, disk.written, `"user_id":"user_1","line":3,"error":{"kind":"interrupted","message":"stopped before the call was sent"}`)
}

func TestCountUsers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"0 users", "1 user", "2 users"}, []string{CountUsers(0), CountUsers(1), CountUsers(2)})
}
