package bulk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/idinput"
	"github.com/clerkgo/signintokens/internal/journal"
)

// call makes one call and writes its outcome. A call writes that it is
// about to be sent just before its request goes out (see sending).
func (r *run) call(ctx context.Context, it idinput.ID) {
	line := journal.Line{Key: it.ID, Line: it.Line}
	st := &sendState{w: r.w, line: &line, claims: r.opts.Claims}
	ctx = context.WithValue(ctx, sendStateKey{}, st)
	made, err := r.job.Send(ctx, it.ID)
	for waits := 0; waits < max429Waits && r.waitOut429(ctx, err); waits++ {
		made, err = r.job.Send(ctx, it.ID)
	}
	if errors.Is(err, errClaimed) {
		line.HeldBack = true
		_ = r.w.Write(&line)
		r.update(func(st *Stats) { st.HeldBack++; st.Claimed = append(st.Claimed, it.ID) })
		return
	}
	sent := st.attempts > 0
	if err != nil && !sent && errors.Is(err, context.Canceled) {
		r.update(func(st *Stats) { st.NotStarted++ })
		return
	}
	_, sentBefore := r.opts.Prior.Uncertain[it.ID]
	err = r.outcome(&line, made, err, st.attempts > 1 || sentBefore)
	_ = r.w.Write(&line) // a failed write stops the run; the writer keeps what it lost
	wentOut := sent && !errors.Is(err, errStoppedAfterIntent)
	r.update(func(st *Stats) {
		if wentOut {
			st.Sent++
		}
		switch {
		case line.Error == nil:
			st.Done++
		case line.Uncertain:
			st.Failed++
			st.MaybeMade++
		default:
			st.Failed++
		}
	})
	if err != nil {
		r.judge(err)
	}
}

// outcome fills line with what a sent call came to, and returns the error
// that is the call's outcome (nil when an earlier attempt did it).
func (r *run) outcome(line *journal.Line, made Made, err error, sentBefore bool) error {
	var done bool
	if err != nil && sentBefore && r.job.AlreadyDone != nil {
		if m, ok := r.job.AlreadyDone(line.Key, err); ok {
			// An earlier attempt did it, and its answer was lost.
			made, done, err = m, true, nil
		}
	}
	switch {
	case errors.Is(err, errStoppedAfterIntent):
		line.Error = &journal.ErrorInfo{Kind: "interrupted", Message: "stopped before the call was sent"}
	case errors.Is(err, client.ErrMaybeCreated):
		// Whatever ended the call (a signal included), the create left.
		info := Describe(err)
		line.Error, line.Uncertain = &info, true
	case errors.Is(err, context.Canceled):
		// Stopped while waiting to retry after an attempt that was not
		// processed (a create is retried only then).
		line.Error = &journal.ErrorInfo{Kind: "interrupted", Message: "stopped before the call could be retried"}
	case err != nil:
		info := Describe(err)
		line.Error = &info
	default:
		line.ID, line.Status, line.URL, line.AlreadyRevoked = made.ID, made.Status, made.URL, done
	}
	return err
}

// waitOut429 reports whether err is a 429 whose Retry-After was longer than
// the client waits by itself, and then waits it out, showing so: the client
// holds every call back until then, and the ID is called again, since a
// 429 was not processed.
func (r *run) waitOut429(ctx context.Context, err error) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter <= 0 || ctx.Err() != nil {
		return false
	}
	r.bar.pause(time.Now().Add(ae.RetryAfter))
	return true
}

// judge stops the run when its failures say that every call would fail:
// the key refused, or a run of server and transport failures.
func (r *run) judge(err error) {
	var ae *client.APIError
	var ce *client.ClerkErrors
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, client.ErrInvalidRequest):
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnauthorized:
		r.halt("Clerk refused the secret key (401): check CLERK_SECRET_KEY")
	case errors.As(err, &ae) && ae.StatusCode >= 500, !errors.As(err, &ae) && !errors.As(err, &ce):
		r.mu.Lock()
		r.failing++
		n := r.failing
		r.mu.Unlock()
		if n >= maxServerFailures {
			r.halt(fmt.Sprintf("%d calls in a row failed with a server or connection error (the last: %v)", n, err))
		}
		return
	}
	r.mu.Lock()
	r.failing = 0
	r.mu.Unlock()
}

// halt stops the run from sending, saying why; calls in flight finish.
func (r *run) halt(why string) {
	r.mu.Lock()
	first := r.st.Stopped == ""
	if first {
		r.st.Stopped = why
	}
	r.mu.Unlock()
	if first {
		r.bar.Say("signintokens: stopping: " + why)
		r.stop()
	}
}

// update changes the stats under the lock and shows progress.
func (r *run) update(f func(*Stats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.st)
	r.bar.show(r.st)
}
