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
// Any go-redis client works: a *redis.Client, a *redis.ClusterClient (the
// two keys share a hash tag, so they live in one slot), a failover
// (Sentinel) client, or any redis.UniversalClient.
//
// The rate is GCRA (the generic cell rate algorithm), run in one Lua script
// on Redis's own clock, so the processes need no synchronised clocks. Each
// attempt reserves its slot in one round trip and sleeps until it, as
// golang.org/x/time/rate's Reserve does in one process: the fleet never
// polls, and no two attempts race for one slot. The keys hold a hash of the
// secret key, never the key. A 429's pause is a key too, which every
// reservation honours, and is kept in the process as well.
//
// Redis failing never lets a call out uncounted: when Redis is unreachable
// or slow, or a key holds a value the limiter did not write, Wait returns
// an *Error (or the context's error) before anything is sent. Wait returns
// when its context ends, whatever the go-redis client's timeouts and retry
// options: a round trip still running then is left to finish on its own,
// within those timeouts.
package redislimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// horizon is how far ahead of Redis's now a stored time may be, in
// microseconds: a day. A pause or a reservation further ahead is a value
// the limiter did not write, and fails closed.
const horizon = int64(24 * time.Hour / time.Microsecond)

// PauseWriteTimeout bounds the write of a 429's pause to Redis. The pause
// is the fleet's, not the call's: it is written with a context of its own,
// so that a call whose context ends as the 429 arrives still pauses the
// other processes.
const PauseWriteTimeout = time.Second

// checkStored is the Lua that reads a stored time: absent is 0; anything but
// a whole number from 0 to now + horizon (text, nan, inf, 1e300, a
// negative, a fraction, another type) is an error, so that the limit fails
// closed.
const checkStored = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local horizon = tonumber(ARGV[1])
local function stored(key)
  local ok, v = pcall(redis.call, 'GET', key)
  if not ok then return nil end
  if not v then return 0 end
  if not string.match(v, '^%d+$') then return nil end
  local n = tonumber(v)
  if not n or n > now + horizon then return nil end
  return n
end
`

// reserveScript reserves the next slot under the shared rate (KEYS[1])
// and pause (KEYS[2]): it returns how many microseconds from Redis's now
// the slot is, and moves the theoretical arrival time past it. ARGV[2] is
// the interval between slots, ARGV[3] the burst's tolerance, both in
// microseconds. When the slot is further away than ARGV[4] microseconds
// (what the caller's deadline allows), nothing is reserved and it returns
// -1 minus the wait.
var reserveScript = redis.NewScript(checkStored + `
local paused = stored(KEYS[2])
local tat = stored(KEYS[1])
if not paused or not tat then
  return redis.error_reply('a limiter key holds a value the limiter did not write')
end
local interval, tolerance, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local start = math.max(now, paused)
tat = math.max(tat, start)
local at = math.max(tat + interval - tolerance, start)
local wait = at - now
if wait > limit then
  return -1 - wait
end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return wait
`)

// pauseScript extends the pause (KEYS[1]) to ARGV[2] microseconds from
// Redis's now, never shortening a pause the limiter wrote; a value it did
// not write is replaced.
var pauseScript = redis.NewScript(checkStored + `
local untilv = now + tonumber(ARGV[2])
local cur = stored(KEYS[1])
if not cur or untilv > cur then
  redis.call('SET', KEYS[1], string.format('%d', untilv), 'PX', math.ceil(tonumber(ARGV[2]) / 1000) + 1000)
end
return 0
`)

// Limiter is a client.Limiter shared through Redis.
type Limiter struct {
	rdb       redis.Scripter
	keys      []string // the rate's and the pause's, in one hash slot
	interval  int64    // microseconds between requests
	tolerance int64    // microseconds of burst

	mu    sync.Mutex
	until time.Time // this process's own record of the pause
}

// New returns a limiter of requestsPerSecond, with bursts of up to burst,
// shared by every process that uses rdb (any go-redis client, such as a
// redis.UniversalClient) and secretKey. It panics if the rate is not a
// finite positive number or the burst is below 1.
func New(rdb redis.Scripter, secretKey string, requestsPerSecond float64, burst int) *Limiter {
	if !(requestsPerSecond > 0) || math.IsInf(requestsPerSecond, 1) || burst < 1 {
		panic("redislimit: want a finite positive rate and a burst of at least 1")
	}
	sum := sha256.Sum256([]byte(secretKey))
	// The braces are a hash tag: Redis Cluster puts both keys in the slot
	// of the hash, so that one script may use both.
	prefix := "signintokens:limit:{" + hex.EncodeToString(sum[:16]) + "}"
	interval := max(int64(math.Ceil(1e6/requestsPerSecond)), 1)
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
// outlast its deadline), or with an *Error when Redis fails. It reserves
// the attempt's slot in one round trip, then sleeps until it.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := l.sleep(ctx, time.Until(l.localPause())); err != nil {
		return err
	}
	limit := horizon
	if deadline, ok := ctx.Deadline(); ok {
		limit = max(time.Until(deadline).Microseconds(), 0)
	}
	us, err := l.run(ctx, reserveScript, l.keys, l.interval, l.tolerance, limit)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return &Error{Op: "wait", Err: err}
	case us > horizon || us < -1-horizon:
		return &Error{Op: "wait", Err: fmt.Errorf("redis answered a wait of %d µs", us)}
	case us < 0:
		wait := time.Duration(-1-us) * time.Microsecond
		return fmt.Errorf("%w: the shared limit asks to wait %s", context.DeadlineExceeded, wait.Round(time.Millisecond))
	}
	if err := l.sleep(ctx, time.Duration(us)*time.Microsecond); err != nil {
		return err
	}
	// A 429 this process met while the attempt waited for its slot.
	return l.sleep(ctx, time.Until(l.localPause()))
}

// Pause holds back every process's attempts until the given time: in Redis
// and in this process (so that a Redis failure still pauses this one). The
// write to Redis has a context of its own, bounded by PauseWriteTimeout,
// not ctx: the pause is the fleet's, even when the call that met the 429
// is ending.
func (l *Limiter) Pause(ctx context.Context, until time.Time) {
	l.mu.Lock()
	if until.After(l.until) {
		l.until = until
	}
	l.mu.Unlock()
	d := time.Until(until)
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), PauseWriteTimeout)
	defer cancel()
	// A failure here leaves the other processes to their own 429s; this
	// one still waits, on its own record.
	_, _ = l.run(ctx, pauseScript, l.keys[1:], min(d.Microseconds(), horizon))
}

// run runs script and returns its integer answer, or ctx's error as soon
// as ctx ends: go-redis bounds a command by ctx's deadline only when its
// client was built with ContextTimeoutEnabled, and may retry a command
// that timed out. A round trip left running finishes on its own, within
// the client's timeouts; a slot it reserves goes unused.
func (l *Limiter) run(ctx context.Context, script *redis.Script, keys []string, args ...any) (int64, error) {
	args = append([]any{horizon}, args...)
	if ctx.Done() == nil {
		return script.Run(ctx, l.rdb, keys, args...).Int64()
	}
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := script.Run(ctx, l.rdb, keys, args...).Int64()
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-ctx.Done():
		return 0, errors.Join(ctx.Err(), errors.New("redis did not answer in time"))
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
