package bulk

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/clerkgo/signintokens/internal/idinput"
	"github.com/clerkgo/signintokens/internal/idset"
	"github.com/clerkgo/signintokens/internal/journal"
)

// maxServerFailures is how many calls in a row may fail with a 5XX or a
// transport error, each after the client's own retries, before the run
// stops sending: past a few, it is an outage, and every further create sent
// into it is one more user held back for a hand check.
const maxServerFailures = 3

// max429Waits is how many times one ID waits out a 429 whose Retry-After is
// longer than the client waits by itself, before it counts as failed.
const max429Waits = 5

// MaxIDBytes is the longest ID a run sends. Clerk's IDs are about 32
// bytes; a longer input ID is reported as invalid without a request.
const MaxIDBytes = 256

// Options say how a run treats its input.
type Options struct {
	// Concurrency is how many calls are in flight at once, at least 1.
	Concurrency int
	// Prior is what earlier runs did (their journal, or the record
	// resumed); the zero Prior is no run.
	Prior journal.Prior
	// Recreate calls again for IDs whose earlier create is uncertain (the
	// operator checked them).
	Recreate bool
	// Claims, if not nil, are taken before each create (see Claims).
	Claims *Claims
}

// run is one bulk run under way.
type run struct {
	job  Job
	opts Options
	w    *journal.Writer
	// seen holds the prior run's done IDs (journal.DoneBit) and this
	// input's, each with the line it came on first.
	seen *idset.Set
	bar  *Progress
	stop context.CancelFunc // ends the run when its failures say every call would fail

	mu      sync.Mutex
	st      Stats
	failing int  // calls in a row that failed with a 5XX or in transport
	holding int  // the line of the ID the reader holds for a worker; 0: none
	ended   bool // the run's stats are final
}

// Run calls job.Send for each ID of in, opts.Concurrency at a time, and
// writes each outcome to w as soon as it is known. When ctx ends (a
// signal, or w's stop after a failed write) or the run's failures say
// every call would fail, it reads no more input and starts no call,
// including one waiting for the rate limiter; calls already sent finish
// and their lines are written.
func Run(ctx context.Context, job Job, in *idinput.Reader, opts Options, w *journal.Writer, bar *Progress) Stats {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	seen := opts.Prior.Done
	if seen == nil {
		seen = idset.New()
	}
	r := &run{job: job, opts: opts, w: w, seen: seen, bar: bar, stop: stop}
	start := time.Now()
	items := make(chan idinput.ID)
	go r.read(ctx, in, items)
	defer bar.redrawWhileIdle(r.stats)()
	var wg sync.WaitGroup
	for range opts.Concurrency {
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
		r.st.NotStarted++
	}
	r.ended = true
	r.st.Took = time.Since(start)
	r.st.Met429 = bar.count429()
	return r.st
}

// stats are the run's counts so far.
func (r *run) stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// handed notes that a worker took the ID the reader held.
func (r *run) handed(it idinput.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.holding == it.Line {
		r.holding = 0
	}
}

// read sends the IDs to call to items. It stops at once when ctx ends: the
// workers no longer wait for it, even if the input is an idle terminal.
func (r *run) read(ctx context.Context, in *idinput.Reader, items chan<- idinput.ID) {
	defer close(items)
	for ctx.Err() == nil {
		it, err := in.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.update(func(st *Stats) { st.ReadErr = err })
			}
			return
		}
		r.update(func(st *Stats) { st.Read++ })
		if !r.admit(it) {
			continue
		}
		r.update(func(*Stats) { r.holding = it.Line })
		select {
		case items <- it:
		case <-ctx.Done():
			r.update(func(st *Stats) {
				if !r.ended && r.holding == it.Line {
					st.NotStarted++
					r.holding = 0
				}
			})
		}
	}
}

// admit decides what becomes of an ID before any call: invalid, a
// duplicate, skipped (done in a prior run), or held back (its earlier
// create is uncertain). It reports whether to call for it. The record
// carries what the prior run settled (see journal.CarrySettled).
func (r *run) admit(it idinput.ID) bool {
	line := journal.Line{Key: it.ID, Line: it.Line}
	if len(it.ID) > MaxIDBytes {
		line.Error = &journal.ErrorInfo{Kind: "invalid_request", Message: "the ID is longer than any Clerk ID"}
		_ = r.w.Write(&line)
		r.update(func(st *Stats) { st.Failed++ })
		return false
	}
	v, _ := r.seen.Get(it.ID)
	if first := int(v &^ journal.DoneBit); first != 0 {
		line.DuplicateOf = first
		_ = r.w.Write(&line)
		r.update(func(st *Stats) { st.Duplicate++ })
		return false
	}
	if err := r.seen.Put(it.ID, v|uint32(min(it.Line, journal.DoneBit-1))); err != nil {
		r.update(func(st *Stats) { st.ReadErr = err })
		r.stop() // every ID after this one would be unchecked
		return false
	}
	if v&journal.DoneBit != 0 {
		r.update(func(st *Stats) { st.Skipped++ })
		return false
	}
	if _, ok := r.opts.Prior.Uncertain[it.ID]; ok && r.job.Creates && !r.opts.Recreate {
		r.update(func(st *Stats) { st.HeldBack++; st.Held = append(st.Held, it.ID) })
		return false
	}
	return true
}
