package redislimit_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/redistest"
	"github.com/clerkgo/signintokens/redislimit"
)

// A stalled Redis (CLIENT PAUSE for 30 s) does not hold a call past its
// context, whatever the go-redis client's options: its default timeouts,
// no read timeout at all, or retries of timed-out commands. The call ends
// with the context's error, long before Redis comes back, and nothing is
// sent.
func TestLimiter_stalledRedisEndsWithContext(t *testing.T) {
	t.Parallel()
	options := map[string]*redis.Options{
		"default options": {},
		"no read timeout": {ReadTimeout: -1},
		"retries":         {ReadTimeout: time.Second, MaxRetries: 10},
	}
	for name, opts := range options {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rs := redistest.Start(t)
			srv := clerktest.NewServer(t, clerktest.WithAnyUser())
			opts.Addr = rs.Addr
			rdb := redis.NewClient(opts)
			t.Cleanup(func() { rdb.Close() })
			l := redislimit.New(rdb, srv.SecretKey(), 100, 1)
			require.NoError(t, l.Wait(context.Background()), "Redis up: the script is loaded")
			control := newRedis(t, rs.Addr)
			require.NoError(t, control.Do(context.Background(), "CLIENT", "PAUSE", 30000, "WRITE").Err())
			t.Cleanup(func() { control.Do(context.Background(), "CLIENT", "UNPAUSE") })

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := srv.Client(client.WithLimiter(l)).SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_1"})
			took := time.Since(start)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, took, 2500*time.Millisecond, "returned soon after its context ended (the client's read timeout is 3 s)")
			assert.Empty(t, srv.Requests(), "nothing was sent")
		})
	}
}

// On a real Redis Cluster of three masters, the limiter works: its two keys
// share a hash slot (a script on keys in two slots fails with CROSSSLOT).
// Two processes share the rate and a 429's pause.
func TestLimiter_redisCluster(t *testing.T) {
	t.Parallel()
	addrs := redistest.StartCluster(t, 3)
	newCluster := func() *redis.ClusterClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { c.Close() })
		return c
	}
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(25, time.Second)
	var wg sync.WaitGroup
	for p := range 2 {
		var uc redis.UniversalClient = newCluster()
		c := srv.Client(client.WithLimiter(redislimit.New(uc, srv.SecretKey(), 20, 1)), client.WithRetryPolicy(client.RetryPolicy{}))
		wg.Go(func() {
			for i := range 15 {
				_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: userID(p, i)})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Len(t, srv.SignInTokens(), 30)
	assert.Zero(t, count429(srv))

	a := redislimit.New(newCluster(), "sk_test_cluster", 100, 1)
	b := redislimit.New(newCluster(), "sk_test_cluster", 100, 1)
	a.Pause(context.Background(), time.Now().Add(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the shared limit asks to wait")
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

// A 429's pause reaches the fleet even when the call that met it has a
// context that is already over: the pause is written with a context of
// its own.
func TestLimiter_pauseOutlivesCallersContext(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a := redislimit.New(newRedis(t, rs.Addr), "sk_test_shared", 100, 1)
	b := redislimit.New(newRedis(t, rs.Addr), "sk_test_shared", 100, 1)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	a.Pause(ended, time.Now().Add(time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the shared limit asks to wait")
}

// A key that holds a value the limiter did not write fails closed: the
// call fails with the limiter's error and nothing is sent, whatever the
// value (inf and 1e300 once let every call out uncounted).
func TestLimiter_corruptKeysFailClosed(t *testing.T) {
	t.Parallel()
	values := []string{"inf", "1e300", "-inf", "nan", "text", "1.5", "-5", "99999999999999999999", "", "wrong type"}
	for _, which := range []string{":rate", ":pause"} {
		for _, v := range values {
			t.Run(strings.TrimPrefix(which, ":")+"="+v, func(t *testing.T) {
				t.Parallel()
				rs := redistest.Start(t)
				rdb := newRedis(t, rs.Addr)
				srv := clerktest.NewServer(t, clerktest.WithAnyUser())
				l := redislimit.New(rdb, srv.SecretKey(), 100, 1)
				key := limiterKey(t, rdb, l, which)
				if v == "wrong type" {
					require.NoError(t, rdb.Del(context.Background(), key).Err())
					require.NoError(t, rdb.RPush(context.Background(), key, "x").Err())
				} else {
					require.NoError(t, rdb.Set(context.Background(), key, v, time.Minute).Err())
				}
				_, err := srv.Client(client.WithLimiter(l)).SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
				var re *redislimit.Error
				require.ErrorAs(t, err, &re)
				assert.Empty(t, srv.Requests(), "nothing was sent")
			})
		}
	}
}

// limiterKey is the name of l's rate or pause key (which is ":rate" or
// ":pause"), found by making both exist.
func limiterKey(t *testing.T, rdb *redis.Client, l *redislimit.Limiter, which string) string {
	t.Helper()
	require.NoError(t, l.Wait(context.Background()))
	l.Pause(context.Background(), time.Now().Add(time.Millisecond))
	keys, err := rdb.Keys(context.Background(), "signintokens:limit:*"+which).Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, rdb.Del(context.Background(), keys[0]).Err())
	return keys[0]
}

// Each Wait is one round trip: it reserves its slot and sleeps until it,
// rather than asking again and again, so that 16 callers in two processes
// never race for a slot. The reservation is kept exactly, in whole
// microseconds (a float's %.14g would round it to milliseconds).
func TestLimiter_reservesInOneRoundTrip(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	control := newRedis(t, rs.Addr)
	const processes, callers, calls = 2, 8, 5
	limiters := make([]*redislimit.Limiter, processes)
	for p := range limiters {
		limiters[p] = redislimit.New(newRedis(t, rs.Addr), "sk_test_reserve", 400, 1)
		require.NoError(t, limiters[p].Wait(context.Background()), "loads the script")
	}
	require.NoError(t, control.ConfigResetStat(context.Background()).Err())
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range callers {
			wg.Go(func() {
				for range calls {
					assert.NoError(t, l.Wait(context.Background()))
				}
			})
		}
	}
	wg.Wait()
	assert.Equal(t, processes*callers*calls, scriptRuns(t, control), "script runs for as many Waits")
	keys, err := control.Keys(context.Background(), "signintokens:limit:*:rate").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	v, err := control.Get(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	assert.Regexp(t, `^\d+$`, v, "the reservation in whole microseconds")
}

// scriptRuns counts the scripts Redis ran since its stats were reset.
func scriptRuns(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	require.NoError(t, err)
	n := 0
	for _, m := range regexp.MustCompile(`cmdstat_(?:evalsha|eval):calls=(\d+),.*?failed_calls=(\d+)`).FindAllStringSubmatch(info, -1) {
		calls, _ := strconv.Atoi(m[1])
		failed, _ := strconv.Atoi(m[2])
		n += calls - failed
	}
	return n
}
