package main

import (
	"io"
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
