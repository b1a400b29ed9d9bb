// Package redislimit is a client.Limiter on Redis: every process that uses
// one Redis and one Clerk secret key shares one rate and one 429 pause, so
// that a fleet stays under the key's limit together (Clerk limits the
// Backend API per instance key: 100 requests per 10 s on development
// instances, 1,000 in production).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	lim := redislimit.New(rdb, os.Getenv("CLERK_SECRET_KEY"), 90, 1)
//	c, err := client.New(client.WithLimiter(lim))
//
// The rate is GCRA (the generic cell rate algorithm, as go-redis/redis_rate
// has it), run in one Lua script on Redis's own clock, so the processes need
// no synchronised clocks. The keys hold a hash of the secret key, never the
// key. A 429's pause is a key too, which every process reads before it
// sends, and is kept in the process as well.
//
// When Redis is unreachable or slow, Wait returns an *Error before anything
// is sent: a call never goes out without the shared limit. Each Redis round
// trip is bounded by the caller's context and by the Redis client's own
// timeouts (go-redis: 3 s to read by default).
package redislimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitScript is one GCRA decision on Redis's clock: 0 if a request may go
// now (and it is counted), else how many microseconds to wait. A pause
// (KEYS[2]) that has not ended comes first.
var waitScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then
  return paused - now
end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local allowed_at = tat + interval - tolerance
if allowed_at > now then
  return allowed_at - now
end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return 0
`)

// pauseScript extends the pause (KEYS[1]) to ARGV[1] microseconds from
// Redis's now, never shortening it.
var pauseScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilv = now + tonumber(ARGV[1])
if untilv > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untilv, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
`)

// Limiter is a client.Limiter shared through Redis.
type Limiter struct {
	rdb       redis.Scripter
	keys      []string // the rate's and the pause's
	interval  int64    // microseconds between requests
	tolerance int64    // microseconds of burst

	mu    sync.Mutex
	until time.Time // this process's own record of the pause
}

// New returns a limiter of requestsPerSecond, with bursts of up to burst,
// shared by every process that uses rdb and secretKey. It panics if the
// rate is not positive or the burst is below 1.
func New(rdb redis.Scripter, secretKey string, requestsPerSecond float64, burst int) *Limiter {
	if !(requestsPerSecond > 0) || burst < 1 {
		panic("redislimit: want a positive rate and a burst of at least 1")
	}
	sum := sha256.Sum256([]byte(secretKey))
	prefix := "signintokens:limit:" + hex.EncodeToString(sum[:16])
	interval := int64(math.Ceil(1e6 / requestsPerSecond))
	return &Limiter{
		rdb:       rdb,
		keys:      []string{prefix + ":rate", prefix + ":pause"},
		interval:  interval,
		tolerance: interval * int64(burst),
	}
}

// Error is a Redis failure: the attempt waiting on the limiter was not sent.
type Error struct {
	// Op is what the limiter was doing, such as "wait".
	Op string
	// Err is the Redis client's error.
	Err error
}

// Error returns one line: what the limiter was doing and what Redis said.
func (e *Error) Error() string { return fmt.Sprintf("redislimit: %s: %v", e.Op, e.Err) }

// Unwrap returns the Redis client's error.
func (e *Error) Unwrap() error { return e.Err }

// Wait returns when an attempt may be sent under the shared rate and
// pause, with ctx's error when it ends first (at once, when the wait would
// outlast its deadline), or with an *Error when Redis fails.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := l.sleep(ctx, time.Until(l.localPause())); err != nil {
			return err
		}
		us, err := waitScript.Run(ctx, l.rdb, l.keys, l.interval, l.tolerance).Int64()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &Error{Op: "wait", Err: err}
		}
		if us <= 0 {
			return nil
		}
		if err := l.sleep(ctx, time.Duration(us)*time.Microsecond); err != nil {
			return err
		}
	}
}

// Pause holds back every process's attempts until the given time: in Redis
// and in this process (so that a Redis failure still pauses this one).
func (l *Limiter) Pause(ctx context.Context, until time.Time) {
	l.mu.Lock()
	if until.After(l.until) {
		l.until = until
	}
	l.mu.Unlock()
	if d := time.Until(until); d > 0 {
		// A failure here leaves the other processes to their own 429s; this
		// one still waits, on its own record.
		_ = pauseScript.Run(ctx, l.rdb, l.keys[1:], d.Microseconds()).Err()
	}
}

func (l *Limiter) localPause() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

// sleep waits for d, failing at once when ctx's deadline comes first.
func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return fmt.Errorf("%w: the shared limit asks to wait %s", context.DeadlineExceeded, d.Round(time.Millisecond))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
