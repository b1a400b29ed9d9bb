package main

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/internal/redistest"
)

// Two runs that share one Redis and one key share --rate: at 20 a second
// together they never meet a fake that allows 25 a second (unshared, they
// would send 40 a second).
func TestCreateFrom_sharedRateOverRedis(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(25, time.Second)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for p := range 2 {
		path, _ := usersFileNamed(t, 30, string(rune('a'+p)))
		wg.Go(func() {
			results[p] = run(t, serverEnv(srv), "create", "--from", path, "--rate", "20", "--concurrency", "2", "--redis-url", rs.URL())
		})
	}
	wg.Wait()
	for _, r := range results {
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "the rate shared through Redis")
	}
	assert.Len(t, srv.SignInTokens(), 60)
	assert.Zero(t, count429(srv), "429 answers")
}

// Redis killed mid-run: no call goes out without the shared limit; the
// run stops after three calls in a row fail with the limiter's error, and
// every token made has its line.
func TestCreateFrom_redisKilledMidRun(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, _ := usersFile(t, 300)
	env := append(serverEnv(srv), "SIGNINTOKENS_REDIS_URL="+rs.URL())
	cmd, out, stderr := start(t, env, "create", "--from", path, "--rate", "50", "--concurrency", "2")
	lines := readOutcomes(t, out, 5)
	rs.Kill()
	rest, _ := io.ReadAll(out)
	code, _ := ended(t, cmd)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "redislimit: wait")
	assert.Contains(t, stderr.String(), "calls in a row failed")
	made := 0
	for _, l := range append(lines, strings.Split(strings.TrimSpace(string(rest)), "\n")...) {
		if strings.Contains(l, `"status":"pending"`) {
			made++
		}
	}
	assert.Equal(t, len(srv.SignInTokens()), made, "a line for every token made")
	require.Less(t, made, 300, "the run stopped")
}

// An unreachable --redis-url stops the run before any call, in one line
// that names Redis (its address, never the URL, which may hold a
// password), with exit status 1, and none of go-redis's own log.
func TestCreateFrom_redisUnreachable(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, _ := usersFile(t, 5)
	r := run(t, serverEnv(srv), "create", "--from", path, "--rate", "5", "--redis-url", "redis://:hunter2@"+closedAddr(t))
	assert.Equal(t, 1, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	assert.Contains(t, r.stderr, "Redis at 127.0.0.1:")
	assert.Contains(t, r.stderr, "nothing was sent")
	assert.NotContains(t, r.stderr, "hunter2")
	assert.Empty(t, r.stdout)
	assert.Empty(t, srv.Requests())
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// Two runs on one input sharing --redis-url, each with its own journal,
// at once: each user gets one token; a user one run claimed, the other
// holds back and names. The claims outlive the runs: a third run with a
// journal of its own creates nobody.
func TestCreateFrom_runsSharingRedisClaimUsers(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	path, users := usersFile(t, 20)
	dir := t.TempDir()
	args := func(journal string) []string {
		return []string{"create", "--from", path, "--rate", "200", "--concurrency", "2", "--redis-url", rs.URL(),
			"--journal", filepath.Join(dir, journal)}
	}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for p, journal := range []string{"a", "b"} {
		wg.Go(func() { results[p] = run(t, serverEnv(srv), args(journal)...) })
	}
	wg.Wait()
	perUser := map[string]int{}
	for _, tok := range srv.SignInTokens() {
		perUser[tok.UserID]++
	}
	assert.Len(t, perUser, len(users), "every user has a token")
	for user, n := range perUser {
		assert.Equal(t, 1, n, "tokens of %s", user)
	}
	for _, r := range results {
		if strings.Contains(r.stderr, "claimed by another run") {
			assert.Equal(t, 1, r.code, r.stderr)
		}
	}

	r := run(t, serverEnv(srv), args("c")...)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "20 users claimed by another run")
	assert.Len(t, srv.SignInTokens(), len(users), "no second token")

}

// A run resumed from its own journal takes its own claims back: a user
// whose create failed for sure (404, the user did not exist yet) is
// created when the same command runs again; another journal is held back.
func TestCreateFrom_ownClaimsTakenBack(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	srv := clerktest.NewServer(t)
	path, users := usersFile(t, 3)
	dir := t.TempDir()
	args := func(journal string) []string {
		return []string{"create", "--from", path, "--rate", "200", "--redis-url", rs.URL(), "--journal", filepath.Join(dir, journal)}
	}
	r := run(t, serverEnv(srv), args("a")...)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "3 failed")
	for _, u := range users {
		srv.AddUser(u)
	}
	r = run(t, serverEnv(srv), args("b")...)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "3 users claimed by another run")
	r = run(t, serverEnv(srv), args("a")...)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, srv.SignInTokens(), 3)
}
