package main

import (
	"context"
	"errors"
	"io"
	"net/http"
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
	// call makes the call for one ID with a client; do is call bound to
	// the run's client.
	call func(ctx context.Context, cl *client.Client, id string) (*client.SignInToken, error)
	do   func(ctx context.Context, id string) (*client.SignInToken, error)
	// intents says whether a line is written before each call is sent: a
	// create that may have happened must never be made again blindly.
	intents bool
}

// runOptions say how a run treats its input.
type runOptions struct {
	concurrency int
	prior       prior // what a previous run did (--resume)
	recreate    bool  // create again for IDs whose earlier create is uncertain
}

// bulkStats is what a run did with each ID it read.
type bulkStats struct {
	done, failed, skipped, duplicate, uncertain, notStarted int
	read                                                    int
	interrupted                                             bool // Ctrl-C; set by the command
	took                                                    time.Duration
}

// bulkRun is one bulk run under way.
type bulkRun struct {
	job  bulkJob
	opts runOptions
	j    *journal
	seen *idSet
	tick func(bulkStats) // nil: no progress shown

	mu      sync.Mutex
	st      bulkStats
	readErr error
}

// runBulk calls job.do for each ID of in, opts.concurrency at a time, and
// writes each outcome to j as soon as it is known. When ctx ends (Ctrl-C, or
// j's stop after a failed write) it reads no more input and starts no call,
// including one waiting for the rate limiter; calls already sent finish and
// their lines are written.
func runBulk(ctx context.Context, job bulkJob, in *idReader, opts runOptions, j *journal, tick func(bulkStats)) (bulkStats, error) {
	r := &bulkRun{job: job, opts: opts, j: j, seen: newIDSet(), tick: tick}
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
					r.call(ctx, it)
				case <-ctx.Done():
				}
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.took = time.Since(start)
	return r.st, r.readErr
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
		select {
		case items <- it:
		case <-ctx.Done():
			r.update(func(st *bulkStats) { st.notStarted++ })
		}
	}
}

// admit decides what becomes of an ID before any call: skipped (done in
// the previous run), held back (its earlier create is uncertain), a
// duplicate, or invalid. It reports whether to call for it.
func (r *bulkRun) admit(it inputID) bool {
	line := journalLine{Line: it.line}
	line.setKey(r.job.column, it.id)
	if r.opts.prior.done != nil && r.opts.prior.done.has(it.id) {
		r.update(func(st *bulkStats) { st.skipped++ })
		return false
	}
	if _, ok := r.opts.prior.uncertain[it.id]; ok && !r.opts.recreate {
		r.update(func(st *bulkStats) { st.uncertain++ })
		return false
	}
	if first, dup := r.seen.add(it.id, it.line); dup {
		line.DuplicateOf = first
		_ = r.j.write(&line)
		r.update(func(st *bulkStats) { st.duplicate++ })
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

// call makes one call and writes its outcome. A create writes that it is
// about to be sent just before its request goes out (see sendingDoer).
func (r *bulkRun) call(ctx context.Context, it inputID) {
	line := journalLine{Line: it.line}
	line.setKey(r.job.column, it.id)
	sent := false
	onSend := func() error {
		if sent || !r.job.intents {
			sent = true
			return nil
		}
		sent = true
		intent := line
		intent.Sending = true
		return r.j.write(&intent)
	}
	tok, err := r.job.do(context.WithValue(ctx, onSendKey{}, onSend), it.id)
	switch {
	case err != nil && !sent && errors.Is(err, context.Canceled):
		r.update(func(st *bulkStats) { st.notStarted++ })
		return
	case errors.Is(err, context.Canceled):
		// Stopped while waiting to retry after an attempt that was not
		// processed (a create is retried only then).
		line.Error = &errorInfo{Kind: "interrupted", Message: "stopped before the call could be retried"}
	case err != nil:
		info, _ := describe(err)
		line.Error = &info
		line.Uncertain = r.job.intents && errors.Is(err, client.ErrMaybeCreated)
	case tok != nil:
		line.ID, line.Status = tok.ID, string(tok.Status)
		if tok.URL != nil {
			line.URL = *tok.URL
		}
	}
	_ = r.j.write(&line) // a failed write stops the run; journal keeps what it lost
	r.update(func(st *bulkStats) {
		if line.Error != nil {
			st.failed++
		} else {
			st.done++
		}
	})
}

// update changes the stats under the lock and shows progress.
func (r *bulkRun) update(f func(*bulkStats)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.st)
	if r.tick != nil {
		r.tick(r.st)
	}
}

// onSendKey keys the function a call's context carries for sendingDoer.
type onSendKey struct{}

// sendingDoer sends the requests of a bulk run. Just before a request goes
// out it calls the function in the request's context (which writes the
// create's intent line; if that fails, nothing is sent). Once sent, a
// request is shielded from the run's end: it keeps its own deadline but is
// not cancelled by Ctrl-C, so that its outcome is known and written.
type sendingDoer struct{ next client.HTTPDoer }

func (d sendingDoer) Do(req *http.Request) (*http.Response, error) {
	if onSend, ok := req.Context().Value(onSendKey{}).(func() error); ok {
		if err := onSend(); err != nil {
			return nil, err
		}
	}
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
