package client

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// A deadlineContext is the context of one attempt through a doer that is
// not Go's own transport. Such a doer's body may go on blocking in Read
// after the request's context ends, so the context closes the body being
// read when it ends. One timer ends the context at its deadline and closes
// the body, where context.WithTimeout and a timer of the body's own took
// two: a timer is most of what an attempt costs beyond the call itself
// (BENCHMARKS.md).
//
// It behaves as context.WithDeadline's context does: it ends when its
// deadline passes (Err is context.DeadlineExceeded), when its parent ends
// (Err is the parent's), or when it is released (context.Canceled), and a
// context made from it ends with it, through its AfterFunc method, with no
// goroutine of its own.
type deadlineContext struct {
	context.Context // the parent: the caller's

	deadline   time.Time
	timer      *time.Timer // nil when the parent's deadline is this one
	stopParent func() bool // nil when the parent never ends

	mu    sync.Mutex
	done  chan struct{} // made when first asked for
	err   error
	body  io.Closer            // the body being read, closed when c ends
	after map[*func()]struct{} // what AfterFunc was given and not stopped
}

// newDeadlineContext returns a context of parent that ends after timeout,
// or with a timeout of 0 at parent's own deadline, which parent must have.
// Its release method ends it.
func newDeadlineContext(parent context.Context, timeout time.Duration) *deadlineContext {
	c := &deadlineContext{Context: parent}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	} else {
		c.deadline, _ = parent.Deadline()
	}
	if parent.Done() != nil {
		if err := parent.Err(); err != nil {
			c.end(err) // as a child of an ended context is: ended when made
			return c
		}
		c.stopParent = context.AfterFunc(parent, func() { c.end(parent.Err()) })
	}
	if timeout > 0 {
		c.timer = time.AfterFunc(timeout, func() { c.end(context.DeadlineExceeded) })
	}
	return c
}

// Deadline returns the attempt's deadline.
func (c *deadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }

// String names c as context.WithDeadline's context names itself: printing
// c prints neither the values of its parent nor the body it watches.
func (c *deadlineContext) String() string {
	parent := fmt.Sprintf("%T", c.Context)
	if s, ok := c.Context.(fmt.Stringer); ok {
		parent = s.String()
	}
	return parent + ".WithDeadline(" + c.deadline.String() + ")"
}

// Done returns a channel closed when c ends.
func (c *deadlineContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

// Err returns why c ended, or nil while it has not.
func (c *deadlineContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc calls f once c ends, unless stop is called first; stop reports
// whether it kept f from being called. context.WithCancel uses it to end a
// child of c with c.
func (c *deadlineContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	if c.after == nil {
		c.after = make(map[*func()]struct{})
	}
	key := &f
	c.after[key] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, stopped := c.after[key]
		delete(c.after, key)
		return stopped
	}
}

// watch makes body the one closed when c ends, closing it at once if c has
// ended; watch(nil) stops watching.
func (c *deadlineContext) watch(body io.Closer) {
	c.mu.Lock()
	ended := c.err != nil
	if !ended {
		c.body = body
	}
	c.mu.Unlock()
	if ended && body != nil {
		body.Close()
	}
}

// release ends c with context.Canceled and stops its timer.
func (c *deadlineContext) release() {
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopParent != nil {
		c.stopParent()
	}
	c.end(context.Canceled)
}

// end ends c with err, if it has not ended: it closes Done's channel and the
// watched body, and calls what AfterFunc was given.
func (c *deadlineContext) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	body, after := c.body, c.after
	c.body, c.after = nil, nil
	c.mu.Unlock()
	if body != nil {
		body.Close()
	}
	for f := range after {
		(*f)()
	}
}
