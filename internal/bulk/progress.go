package bulk

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/clerkgo/signintokens/client"
)

// Progress is a run's stderr: a progress line redrawn in place when
// stderr is a terminal, and messages, each on a line of its own with the
// progress line cleared first.
type Progress struct {
	stderr io.Writer
	tty    io.Writer  // the terminal for the progress line, or nil
	width  func() int // the terminal's width in columns; nil: 80
	total  int        // IDs in the input; -1 if unknown
	start  time.Time
	now    func() time.Time

	mu     sync.Mutex
	last   time.Time // when the line was last drawn
	drawn  bool      // a line is on the screen
	paused time.Time // the run waits for a 429's Retry-After until then
	met429 int       // answers of 429 the run met, retried ones included
}

// answered429 counts an answer of 429.
func (p *Progress) answered429() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.met429++
}

// count429 is how many answers of 429 the run met.
func (p *Progress) count429() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.met429
}

// NewProgress writes messages to stderr, and the progress line to tty
// when it is not nil (stderr, when it is a terminal), cut to width's
// columns (80 when width is nil).
func NewProgress(stderr, tty io.Writer, width func() int) *Progress {
	return &Progress{stderr: stderr, tty: tty, width: width, total: -1, start: time.Now(), now: time.Now}
}

// Start starts the run's clock, for an input of total IDs (-1: unknown).
func (p *Progress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.start = total, p.now()
}

// show redraws the progress line, at most five times a second.
func (p *Progress) show(st Stats) {
	if p.tty == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw(st)
	}
}

// pause shows that the run waits until then for a 429's Retry-After.
func (p *Progress) pause(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = until
	p.sayLocked(fmt.Sprintf("signintokens: rate limited (429): the run waits until %s", until.Format(time.TimeOnly)))
}

// Say writes a message on a line of its own.
func (p *Progress) Say(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sayLocked(msg)
}

func (p *Progress) sayLocked(msg string) {
	p.clear()
	fmt.Fprintln(p.stderr, msg)
}

// End draws the final frame and leaves it on its line.
func (p *Progress) End(st Stats) {
	if p.tty == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(st)
	fmt.Fprintln(p.tty)
	p.drawn = false
}

func (p *Progress) draw(st Stats) {
	paused := max(p.paused.Sub(p.now()), 0)
	line := progressLine(st, p.total, p.now().Sub(p.start), paused)
	if paused > 0 {
		line += fmt.Sprintf(", waiting %s (429)", paused.Round(time.Second))
	}
	// One column short of the width, so that the terminal never wraps.
	width := 80
	if p.width != nil {
		width = p.width()
	}
	if w := width - 1; w > 0 && len(line) > w {
		line = line[:w]
	}
	fmt.Fprintf(p.tty, "\r%s\033[K", line)
	p.drawn = true
}

func (p *Progress) clear() {
	if p.drawn {
		fmt.Fprint(p.tty, "\r\033[K")
		p.drawn = false
	}
}

// progressLine is the progress line's text: the share of the input's IDs
// that are finished (done, failed, skipped, held back or duplicate), the
// counts, the rate of calls and the time left, a 429's pause included.
func progressLine(st Stats, total int, elapsed, paused time.Duration) string {
	calls := st.Done + st.Failed
	rate := float64(calls) / max(elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%d done, %d failed, %.0f/s", st.Done, st.Failed, rate)
	finished := st.finished()
	if left := total - finished; total > 0 && left >= 0 {
		if rate > 0 {
			s += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate*float64(time.Second)) + paused).Round(time.Second))
		}
		s = fmt.Sprintf("[%3d%%] ", 100*finished/total) + s
	}
	return s
}

// attempted is the run's attempt hook (client.WithAttemptHook): it says,
// through the progress line, when a call is tried again after a transport
// error (an unreachable server, a refused connection), which would
// otherwise pass in silence, and counts the answers of 429 for the
// summary. Answers that are retried (429, 503) show in the run's counts
// and pauses.
func (p *Progress) attempted(_ context.Context, a client.Attempt) {
	if a.StatusCode == http.StatusTooManyRequests {
		p.answered429()
	}
	if a.Retry && a.StatusCode == 0 {
		p.Say(fmt.Sprintf("signintokens: %s failed (%s), trying again in %s: %v", a.Path, a.RetryReason,
			a.NextWait.Round(time.Millisecond), a.Err))
	}
}

// redrawWhileIdle redraws the progress line once a second, with the
// counts stats gives, so that it moves while no call ends (a 429's pause,
// slow answers); it returns the function that stops it.
func (p *Progress) redrawWhileIdle(stats func() Stats) (stop func()) {
	if p.tty == nil {
		return func() {}
	}
	done := make(chan struct{})
	ticks := time.NewTicker(time.Second)
	go func() {
		defer ticks.Stop()
		for {
			select {
			case <-done:
				return
			case <-ticks.C:
				p.show(stats())
			}
		}
	}()
	return func() { close(done) }
}
