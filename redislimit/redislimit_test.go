package redislimit_test

import (
	"context"
	"errors"
	"net"
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

func newRedis(t *testing.T, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Two "processes" (two Redis clients, two SDK clients) at a shared 20
// requests a second never meet a fake that allows 25 a second: at most 21
// pass the limit in any second, and 2 more may be on their way.
func TestLimiter_sharedRate(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	srv.SetRateLimit(25, time.Second)
	var wg sync.WaitGroup
	for p := range 2 {
		c := srv.Client(client.WithLimiter(redislimit.New(newRedis(t, rs.Addr), srv.SecretKey(), 20, 1)),
			client.WithRetryPolicy(client.RetryPolicy{}))
		wg.Go(func() {
			for i := range 30 {
				_, err := c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: userID(p, i)})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Len(t, srv.SignInTokens(), 60)
	for _, r := range srv.Requests() {
		assert.NotEqual(t, 429, r.Status)
	}
}

func userID(p, i int) string { return "user_" + string(rune('a'+p)) + strings.Repeat("x", i) }

// A 429's pause reaches every process: one limiter's Pause holds another's
// Wait back; a wait that outlasts the caller's deadline fails at once.
func TestLimiter_sharedPause(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	a := redislimit.New(newRedis(t, rs.Addr), "sk_test_shared", 100, 1)
	b := redislimit.New(newRedis(t, rs.Addr), "sk_test_shared", 100, 1)
	other := redislimit.New(newRedis(t, rs.Addr), "sk_test_other", 100, 1)
	a.Pause(context.Background(), time.Now().Add(time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "the shared limit asks to wait")
	assert.NoError(t, other.Wait(ctx), "another key is not paused")
}

// Redis holds a hash of the secret key, never the key.
func TestLimiter_keysHoldNoSecret(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	rdb := newRedis(t, rs.Addr)
	const key = "sk_test_0123456789abcdefSECRET"
	l := redislimit.New(rdb, key, 100, 1)
	require.NoError(t, l.Wait(context.Background()))
	l.Pause(context.Background(), time.Now().Add(time.Second))
	keys, err := rdb.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2)
	for _, k := range keys {
		assert.NotContains(t, k, "SECRET")
		v, err := rdb.Get(context.Background(), k).Result()
		require.NoError(t, err)
		assert.NotContains(t, v, "SECRET")
	}
}

// With Redis unreachable, or killed mid-run, a call fails with the
// limiter's typed error and nothing is sent: never a call without the
// shared limit.
func TestLimiter_redisDown(t *testing.T) {
	t.Parallel()
	srv := clerktest.NewServer(t, clerktest.WithAnyUser())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())

	rs := redistest.Start(t)
	killed := redislimit.New(newRedis(t, rs.Addr), srv.SecretKey(), 100, 1)
	c := srv.Client(client.WithLimiter(killed))
	_, err = c.SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_1"})
	require.NoError(t, err, "Redis up")
	rs.Kill()

	for name, l := range map[string]*redislimit.Limiter{
		"unreachable": redislimit.New(newRedis(t, closed), srv.SecretKey(), 100, 1),
		"killed":      killed,
	} {
		before := len(srv.Requests())
		_, err := srv.Client(client.WithLimiter(l)).SignInTokens.Create(context.Background(), client.CreateSignInTokenRequest{UserID: "user_2"})
		var re *redislimit.Error
		require.ErrorAs(t, err, &re, name)
		assert.False(t, errors.Is(err, client.ErrMaybeCreated), name)
		assert.Equal(t, before, len(srv.Requests()), "%s: nothing was sent", name)
	}
}

// BenchmarkLimiter_Wait is the cost of the shared limit per request: one
// round trip to a loopback redis-server and one GCRA reservation, at a rate
// the benchmark never reaches; with a context that can end (a call's), the
// round trip runs in a goroutine of its own, so that the context ends it.
func BenchmarkLimiter_Wait(b *testing.B) {
	rs := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	l := redislimit.New(rdb, "sk_test_bench", 1e9, 1000)
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for name, ctx := range map[string]context.Context{"ctx=background": context.Background(), "ctx=cancellable": cancellable} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
