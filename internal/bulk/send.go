package bulk

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/journal"
)

// ClientOptions are the options a run's client needs, on doer: the hook
// that writes a call's intent before it is sent (see sending), a doer that
// lets a sent call finish after the run stops (see finishSent), and the
// attempt hook that shows retries on bar and counts 429s.
func ClientOptions(doer client.HTTPDoer, bar *Progress) []client.Option {
	return []client.Option{
		client.WithHTTPClient(finishSent{doer}),
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
