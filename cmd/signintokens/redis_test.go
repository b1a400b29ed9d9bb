package main

import (
	"io"
	"net"
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
