package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/clerkgo/signintokens/client"
)

// bulkJob is one kind of bulk run.
type bulkJob struct {
	name string // create or revoke
	// column names the input's IDs: the JSON field of each output line and
	// the CSV column to read.
	column string
	// send makes the call for one ID with the run's client.
	send func(ctx context.Context, cl *client.Client, id string) (*client.SignInToken, error)
	// creates says a call makes a credential: an ID whose earlier call may
	// have happened is held back, never called again blindly. (A revoke
	// of such an ID is sent again; revoking twice is harmless.)
	creates bool
	// header is the first line of the run's journal and stdout.
	header journalHeader
}

// maxServerFailures is how many calls in a row may fail with a 5XX or a
// transport error, each after the client's own retries, before the run
// stops sending: past a few, it is an outage, and every further create sent
// into it is one more user held back for a hand check.
const maxServerFailures = 3

// max429Waits is how many times one ID waits out a 429 whose Retry-After is
// longer than the client waits by itself, before it counts as failed.
const max429Waits = 5

// runOptions say how a run treats its input.
type runOptions struct {
	client      *client.Client // what job.send calls with
	concurrency int
	prior       prior // what a previous run did (--journal or --resume)
	recreate    bool  // create again for IDs whose earlier create is uncertain
	// resumed is the --resume file, whose settled IDs this run's output
	// carries (see carrySettled); nil with --journal.
	resumed *os.File
	// record is the file the run records to (its journal, or stdout when
	// it is a file), whose identity its claims hold; nil if none.
	record *os.File
	// claims, with --redis-url, are the users this run claims before
	// creating (see claims); nil otherwise.
	claims *claims
}

// bulkStats is what a run did with each ID it read.
type bulkStats struct {
	done, failed, skipped, duplicate, notStarted int
	// heldBack are IDs not called because an earlier call may have made
	// their token; maybeMade are this run's failed creates that may have.
	heldBack, maybeMade int
	read                int
	sent                int    // calls that went out (the rate is theirs)
	met429              int    // answers of 429, retried ones included; set by the command
	interrupted         bool   // a signal; set by the command
	stopped             string // why the run stopped sending, if it did
	shared              bool   // the rate was shared through Redis
	took                time.Duration
}

// finished is how many IDs read have their outcome.
func (st bulkStats) finished() int {
	return st.done + st.failed + st.skipped + st.duplicate + st.heldBack
}

// bulkRun is one bulk run under way.
type bulkRun struct {
	job  bulkJob
	opts runOptions
	j    *journal
	seen *idSet
	bar  *progress

	mu      sync.Mutex
	st      bulkStats
	readErr error
	held    []string // this input's IDs held back
	claimed []string // this input's IDs another run claimed
	failing int      // calls in a row that failed with a 5XX or in transport
	holding int      // the line of the ID the reader holds for a worker; 0: none
	ended   bool     // the run's stats are final
}

// handed notes that a worker took the ID the reader held.
func (r *bulkRun) handed(it inputID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.holding == it.line {
		r.holding = 0
	}
}

// runBulk calls job.send with opts.client for each ID of in, opts.concurrency at a time, and
// writes each outcome to j as soon as it is known. When ctx ends (Ctrl-C, or
// j's stop after a failed write) it reads no more input and starts no call,
// including one waiting for the rate limiter; calls already sent finish and
// their lines are written.
func runBulk(ctx context.Context, job bulkJob, in *idReader, opts runOptions, j *journal, bar *progress) (bulkStats, []string, []string, error) {
	r := &bulkRun{job: job, opts: opts, j: j, seen: newIDSet(), bar: bar}
	start := time.Now()
	items := make(chan inputID)
	go r.read(ctx, in, items)
	var wg sync.WaitGroup
	for range opts.concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case it, ok := <-items:
					if !ok {
						return
					}
					r.handed(it)
					r.call(ctx, it)
				case <-ctx.Done():
				}
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	// The reader may still hold an ID it read (it is not waited for: it may
	// be blocked on an idle stdin); it is counted here, and the reader
	// counts nothing more.
	if r.holding != 0 {
		r.st.notStarted++
	}
	r.ended = true
	r.st.took = time.Since(start)
	return r.st, r.held, r.claimed, r.readErr
}

// read sends the IDs to call to items. It stops at once when ctx ends: the
// workers no longer wait for it, even if the input is an idle terminal.
func (r *bulkRun) read(ctx context.Context, in *idReader, items chan<- inputID) {
	defer close(items)
	for ctx.Err() == nil {
		it, err := in.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.update(func(*bulkStats) { r.readErr = err })
			}
			return
		}
		r.update(func(st *bulkStats) { st.read++ })
		if !r.admit(it) {
			continue
		}
		r.update(func(*bulkStats) { r.holding = it.line })
		select {
		case items <- it:
		case <-ctx.Done():
			r.update(func(st *bulkStats) {
				if !r.ended && r.holding == it.line {
					st.notStarted++
					r.holding = 0
				}
			})
		}
	}
}

// admit decides what becomes of an ID before any call: skipped (done in
// the previous run), held back (its earlier create is uncertain), a
// duplicate, or invalid. It reports whether to call for it.
func (r *bulkRun) admit(it inputID) bool {
	line := journalLine{Line: it.line}
	line.setKey(r.job.column, it.id)
	// The record carries what the prior run settled (see carrySettled).
	if first, dup := r.seen.add(it.id, it.line); dup {
		line.DuplicateOf = first
		_ = r.j.write(&line)
		r.update(func(st *bulkStats) { st.duplicate++ })
		return false
	}
	if r.opts.prior.done != nil && r.opts.prior.done.has(it.id) {
		r.update(func(st *bulkStats) { st.skipped++ })
		return false
	}
	if _, ok := r.opts.prior.uncertain[it.id]; ok && r.job.creates && !r.opts.recreate {
		r.update(func(st *bulkStats) { st.heldBack++; r.held = append(r.held, it.id) })
		return false
	}
	if len(it.id) > maxIDBytes {
		line.Error = &errorInfo{Kind: "invalid_request", Message: "the ID is longer than any Clerk ID"}
		_ = r.j.write(&line)
		r.update(func(st *bulkStats) { st.failed++ })
		return false
	}
	return true
}

// call makes one call and writes its outcome. A call writes that it is
// about to be sent just before its request goes out (see sending).
func (r *bulkRun) call(ctx context.Context, it inputID) {
	line := journalLine{Line: it.line}
	line.setKey(r.job.column, it.id)
	st := &sendState{j: r.j, line: &line, claims: r.opts.claims}
	ctx = context.WithValue(ctx, sendStateKey{}, st)
	tok, err := r.job.send(ctx, r.opts.client, it.id)
	for waits := 0; waits < max429Waits && r.waitOut429(ctx, err); waits++ {
		tok, err = r.job.send(ctx, r.opts.client, it.id)
	}
	if errors.Is(err, errClaimed) {
		line.HeldBack = true
		_ = r.j.write(&line)
		r.update(func(st *bulkStats) { st.heldBack++; r.claimed = append(r.claimed, it.id) })
		return
	}
	attempts := st.attempts
	sent := attempts > 0
	_, sentBefore := r.opts.prior.uncertain[it.id]
	switch {
	case err != nil && !r.job.creates && (attempts > 1 || sentBefore) && cannotBeRevoked(err):
		// An earlier attempt revoked it, and its answer was lost.
		line.ID, line.Status, line.AlreadyRevoked, err = it.id, "revoked", true, nil
	case err != nil && !sent && errors.Is(err, context.Canceled):
		r.update(func(st *bulkStats) { st.notStarted++ })
		return
	case errors.Is(err, errStoppedAfterIntent):
		line.Error = &errorInfo{Kind: "interrupted", Message: "stopped before the call was sent"}
	case errors.Is(err, client.ErrMaybeCreated):
		// Whatever ended the call (a signal included), the create left.
		info, _ := describe(err)
		line.Error, line.Uncertain = &info, true
	case errors.Is(err, context.Canceled):
		// Stopped while waiting to retry after an attempt that was not
		// processed (a create is retried only then).
		line.Error = &errorInfo{Kind: "interrupted", Message: "stopped before the call could be retried"}
	case err != nil:
		info, _ := describe(err)
		line.Error = &info
		line.Uncertain = errors.Is(err, client.ErrMaybeCreated)
	case tok != nil:
		line.ID, line.Status = tok.ID, string(tok.Status)
		if tok.URL != nil {
			line.URL = *tok.URL
		}
	}
	_ = r.j.write(&line) // a failed write stops the run; journal keeps what it lost
	wentOut := sent && !errors.Is(err, errStoppedAfterIntent)
	r.update(func(st *bulkStats) {
		if wentOut {
			st.sent++
		}
		switch {
		case line.Error == nil:
			st.done++
		case line.Uncertain:
			st.failed++
			st.maybeMade++
		default:
			st.failed++
		}
	})
	if err != nil {
		r.judge(err)
	}
}

// waitOut429 reports whether err is a 429 whose Retry-After was longer than
// the client waits by itself, and then waits it out, showing so: the client
// holds every call back until then, and the ID is called again, since a
// 429 was not processed.
func (r *bulkRun) waitOut429(ctx context.Context, err error) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || ae.RetryAfter <= 0 || ctx.Err() != nil {
		return false
	}
	r.bar.pause(time.Now().Add(ae.RetryAfter))
	return true
}

// judge stops the run when its failures say that every call would fail:
// the key refused, or a run of server and transport failures.
func (r *bulkRun) judge(err error) {
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
func (r *bulkRun) halt(why string) {
	r.mu.Lock()
	first := r.st.stopped == ""
	if first {
		r.st.stopped = why
	}
	r.mu.Unlock()
	if first {
		r.bar.say("signintokens: stopping: " + why)
		r.j.stop()
	}
}

// cannotBeRevoked reports Clerk's answer to a revoke of a token that is not
// pending.
func cannotBeRevoked(err error) bool {
	var ce *client.ClerkErrors
	return errors.As(err, &ce) && ce.HasCode("sign_in_token_cannot_be_revoked_code")
}

// update changes the stats under the lock and shows progress.
func (r *bulkRun) update(f func(*bulkStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.st)
	r.bar.show(r.st)
}

// sendStateKey keys a call's sendState in its context.
type sendStateKey struct{}

// sendState is what sending knows of one call: how many of its attempts
// went out, and its outcome line, whose intent is written before the first.
type sendState struct {
	j        *journal
	line     *journalLine
	claims   *claims // nil: no claim is taken
	attempts int
}

// sending is the bulk client's send hook (client.WithSendHook): just before
// a call's first attempt goes out it writes the call's intent line, and if
// that fails, nothing is sent.
func sending(req *http.Request) error {
	st, ok := req.Context().Value(sendStateKey{}).(*sendState)
	if !ok {
		return nil
	}
	st.attempts++
	if st.attempts > 1 {
		return nil
	}
	if st.claims != nil {
		if err := st.claims.take(req.Context(), st.line.UserID); err != nil {
			return err
		}
	}
	intent := *st.line
	intent.Sending = true
	if err := st.j.write(&intent); err != nil {
		return err
	}
	if req.Context().Err() != nil {
		// A signal came while the intent was being synced: no new call
		// goes out after it. The outcome line says it was not sent.
		return errStoppedAfterIntent
	}
	return nil
}

// errStoppedAfterIntent is a call whose intent line was written when the
// run had been stopped: it was not sent.
var errStoppedAfterIntent = errors.New("the run stopped before the call was sent")

// finishSent sends the requests of a bulk run. Once sent, a request is
// shielded from the run's end: it keeps its own deadline but is not
// cancelled by Ctrl-C, so that its outcome is known and written.
type finishSent struct{ next client.HTTPDoer }

func (d finishSent) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithoutCancel(req.Context()), context.CancelFunc(func() {})
	if deadline, ok := req.Context().Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	rsp, err := d.next.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	rsp.Body = cancelOnClose{rsp.Body, cancel}
	return rsp, nil
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}
