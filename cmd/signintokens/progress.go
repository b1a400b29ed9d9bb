package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// progress is a bulk run's stderr: a progress line redrawn in place when
// stderr is a terminal, and messages, each on a line of its own with the
// progress line cleared first.
type progress struct {
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
func (p *progress) answered429() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.met429++
}

// count429 is how many answers of 429 the run met.
func (p *progress) count429() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.met429
}

func (c cli) newProgress(total int) *progress {
	return &progress{stderr: c.stderr, tty: c.progress, width: c.width, total: total, start: time.Now(), now: time.Now}
}

// show redraws the progress line, at most five times a second.
func (p *progress) show(st bulkStats) {
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
func (p *progress) pause(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = until
	p.sayLocked(fmt.Sprintf("signintokens: rate limited (429): the run waits until %s", until.Format(time.TimeOnly)))
}

// say writes a message on a line of its own.
func (p *progress) say(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sayLocked(msg)
}

func (p *progress) sayLocked(msg string) {
	p.clear()
	fmt.Fprintln(p.stderr, msg)
}

// end draws the final frame and leaves it on its line.
func (p *progress) end(st bulkStats) {
	if p.tty == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(st)
	fmt.Fprintln(p.tty)
	p.drawn = false
}

func (p *progress) draw(st bulkStats) {
	line := progressLine(st, p.total, p.now().Sub(p.start))
	if until := p.paused.Sub(p.now()); until > 0 {
		line += fmt.Sprintf(", waiting %s (429)", until.Round(time.Second))
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

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.tty, "\r\033[K")
		p.drawn = false
	}
}

// progressLine is the progress line's text: the share of the input's IDs
// that are finished (done, failed, skipped, held back or duplicate), the
// counts, the rate of calls and the time left.
func progressLine(st bulkStats, total int, elapsed time.Duration) string {
	calls := st.done + st.failed
	rate := float64(calls) / max(elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%d done, %d failed, %.0f/s", st.done, st.failed, rate)
	finished := st.finished()
	if left := total - finished; total > 0 && left >= 0 {
		if rate > 0 {
			s += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		}
		s = fmt.Sprintf("[%3d%%] ", 100*finished/total) + s
	}
	return s
}

// retryNotices is a log/slog handler for the bulk run's client: it says on
// stderr, through the progress line, when a call is retried after a
// transport error (an unreachable server, a refused connection), which
// would otherwise pass in silence, and counts the answers of 429 for the
// summary. Other records are dropped: answers that are retried (429, 503)
// show in the run's counts and pauses.
type retryNotices struct{ bar *progress }

func (retryNotices) Enabled(context.Context, slog.Level) bool { return true }

func (h retryNotices) Handle(_ context.Context, r slog.Record) error {
	var retry, errText, path string
	var next time.Duration
	status := false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "retry":
			retry = a.Value.String()
		case "error":
			errText = a.Value.String()
		case "path":
			path = a.Value.String()
		case "next_wait":
			next = a.Value.Duration()
		case "status":
			status = true
			if a.Value.Int64() == 429 {
				h.bar.answered429()
			}
		}
		return true
	})
	if retry != "" && !status {
		h.bar.say(fmt.Sprintf("signintokens: %s failed (%s), trying again in %s: %s", path, retry, next.Round(time.Millisecond), errText))
	}
	return nil
}

func (h retryNotices) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h retryNotices) WithGroup(string) slog.Handler { return h }
