package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/journal"
)

// ClientOptions are the options a run's client needs, on doer: the hook
// that writes a call's intent before it is sent (see sending), a doer that
// lets a sent call finish after the run stops and bounds each attempt by
// timeout of the process's running time (see finishSent), in place of the
// client's own timeout, and the attempt hook that shows retries on bar
// and counts 429s.
func ClientOptions(doer client.HTTPDoer, bar *Progress, timeout time.Duration) []client.Option {
	return []client.Option{
		client.WithHTTPClient(finishSent{next: doer, timeout: timeout}),
		client.WithTimeout(0),
		client.WithSendHook(sending),
		client.WithAttemptHook(bar.attempted),
	}
}

// sendStateKey keys a call's sendState in its context.
type sendStateKey struct{}

// sendState is what sending knows of one call: how many of its attempts
// went out, and its outcome line, whose intent is written before the first.
type sendState struct {
	w        *journal.Writer
	line     *journal.Line
	claims   *Claims // nil: no claim is taken
	attempts int
}

// sending is the run's send hook (client.WithSendHook): just before a
// call's first attempt goes out it takes the ID's claim, if the run
// claims, and writes the call's intent line, durable; if either fails,
// nothing is sent.
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
		if err := st.claims.take(req.Context(), st.line.Key); err != nil {
			return err
		}
	}
	intent := *st.line
	intent.Sending = true
	if err := st.w.Write(&intent); err != nil {
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

// finishSent sends the requests of a run. Once sent, a request is
// shielded from the run's end: it is not cancelled by Ctrl-C, so that its
// outcome is known and written. It is bounded instead by timeout of the
// time the process runs (see activeTimeout), and by its own deadline if it
// has one.
type finishSent struct {
	next    client.HTTPDoer
	timeout time.Duration
}

func (d finishSent) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithoutCancel(req.Context()), context.CancelFunc(func() {})
	if deadline, ok := req.Context().Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	ctx, stopTimer := activeTimeout(ctx, d.timeout)
	release := func() { stopTimer(); cancel() }
	rsp, err := d.next.Do(req.WithContext(ctx))
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errNoAnswer) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		release()
		return nil, err
	}
	rsp.Body = cancelOnClose{rsp.Body, release}
	return rsp, nil
}

// errNoAnswer ends an attempt that had no answer within the run's timeout.
var errNoAnswer = errors.New("no answer within the timeout")

// activeTimeout is ctx, ended with errNoAnswer as its cause once d of the
// process's running time has passed: a tick that comes far later than due
// is time the process was stopped (SIGSTOP, a suspended laptop, a paused
// container), not counted, so that an answer that came while it was
// stopped is read, not taken for a timeout. d 0 is no timeout.
func activeTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	tick := min(d/8, 250*time.Millisecond)
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for ran := time.Duration(0); ran < d; {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				ran += min(now.Sub(last), 2*tick)
				last = now
			}
		}
		cancel(fmt.Errorf("%w (%s)", errNoAnswer, d))
	}()
	return ctx, func() { cancel(context.Canceled) }
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
