package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clerkgo/signintokens/client"
)

// defaultRate keeps a bulk run under Clerk's development limit of 100
// requests per 10 s.
const defaultRate = 9

// bulkRetries is how often a bulk call is retried: enough to ride out a few
// rate-limit windows, each of which pauses the whole run together.
const bulkRetries = 5

// exitInterrupted is the exit status after Ctrl-C, as a shell reports a
// process ended by SIGINT.
const exitInterrupted = 130

// bulkFlags are the flags of a run over a file of IDs.
type bulkFlags struct {
	from, resume *string
	concurrency  *int
	rate         *float64
	recreate     *bool
}

func addBulkFlags(fs *flag.FlagSet, what string) bulkFlags {
	return bulkFlags{
		from:        fs.String("from", "", "for each "+what+" in FILE (one per line, or a CSV with a header; - for stdin); prints JSON Lines"),
		resume:      fs.String("resume", "", "with --from: skip IDs that have a success line in OUT, a previous run's output"),
		concurrency: fs.Int("concurrency", 4, "with --from: calls at once"),
		rate:        fs.Float64("rate", defaultRate, "with --from: requests per second at most, across all calls; 0 for no limit"),
		recreate: fs.Bool("recreate-uncertain", false,
			"with --resume: create again for users whose create in OUT may have happened (check them first: they may get a second token)"),
	}
}

// check validates the bulk flags; ok false means exit with code.
func (b bulkFlags) check(c cli, fs *flag.FlagSet) (code int, ok bool) {
	switch {
	case *b.concurrency < 1:
		return c.usageError(fs, "--concurrency must be at least 1"), false
	case *b.rate < 0:
		return c.usageError(fs, "--rate must not be negative"), false
	case *b.from == "" && *b.resume != "":
		return c.usageError(fs, "--resume goes with --from"), false
	case *b.resume == "" && *b.recreate:
		return c.usageError(fs, "--recreate-uncertain goes with --resume"), false
	}
	return exitOK, true
}

// clientOptions are the client options of a bulk run: the rate limit,
// retries enough to ride out a few rate-limit windows, and an HTTP client
// that keeps a connection for each call in flight, writes each create's
// intent line before it is sent, and lets a sent call finish after Ctrl-C
// (see sendingDoer). It refuses redirects itself: the SDK cannot do it for
// a doer that is not an *http.Client.
func (b bulkFlags) clientOptions() []client.Option {
	policy := client.DefaultRetryPolicy()
	policy.MaxRetries = bulkRetries
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(*b.concurrency, client.DefaultMaxIdleConnsPerHost)
	tr.MaxIdleConns = max(tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	opts := []client.Option{client.WithRetryPolicy(policy), client.WithHTTPClient(sendingDoer{hc})}
	if *b.rate > 0 {
		opts = append(opts, client.WithRateLimit(*b.rate, 1))
	}
	return opts
}

// bulk runs call, on one client configured by the bulk flags, for each ID in
// the --from file (column names the IDs), writes JSON Lines to stdout, a
// progress bar to stderr when it is a terminal, and a summary.
func (c cli) bulk(ctx context.Context, job bulkJob, serverURL string, bf bulkFlags) int {
	cl, err := c.newClient(serverURL, bf.clientOptions()...)
	if err != nil {
		return c.fail(err, false)
	}
	defer cl.CloseIdleConnections()
	job.do = func(ctx context.Context, id string) (*client.SignInToken, error) { return job.call(ctx, cl, id) }
	opts := runOptions{concurrency: *bf.concurrency, recreate: *bf.recreate}
	if *bf.resume != "" {
		if opts.prior, err = readJournal(*bf.resume, job.column); err != nil {
			fmt.Fprintf(c.stderr, "signintokens %s: --resume: %v\n", job.name, err)
			return exitUsage
		}
	}
	src, closeSrc, err := c.open(*bf.from)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: --from: %v\n", job.name, err)
		return exitUsage
	}
	defer closeSrc()
	in, err := newIDReader(src, job.column)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: --from: %v\n", job.name, err)
		return exitUsage
	}
	total := countIDs(*bf.from, job.column)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	j := &journal{w: c.stdout, stop: stop}
	st, readErr := runBulk(runCtx, job, in, opts, j, c.progressBar(total))
	st.interrupted = ctx.Err() != nil
	if total >= 0 {
		st.notStarted += total - st.read
	}
	return c.report(job, st, total, opts.prior, readErr, j)
}

// open opens the --from input: a file, or stdin for "-".
func (c cli) open(from string) (io.Reader, func(), error) {
	if from == "-" {
		return c.stdin, func() {}, nil
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// progressBar returns what shows progress on a terminal, or nil.
func (c cli) progressBar(total int) func(bulkStats) {
	if c.progress == nil {
		return nil
	}
	start, last := time.Now(), time.Time{}
	return func(st bulkStats) {
		if time.Since(last) >= 200*time.Millisecond {
			last = time.Now()
			fmt.Fprintf(c.progress, "\r%-70s", progressLine(st, total, time.Since(start)))
		}
	}
}

// report writes the run's summary, what it could not write, and what a
// resumed run left alone, and returns the exit status.
func (c cli) report(job bulkJob, st bulkStats, total int, p prior, readErr error, j *journal) int {
	if c.progress != nil {
		fmt.Fprint(c.progress, "\r\033[K")
	}
	fmt.Fprintln(c.stderr, summary(job.name, st, total))
	lost, writeErr := j.failure()
	code := exitOK
	if writeErr != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: writing the output: %v; the run stopped\n", job.name, writeErr)
		if len(lost) > 0 {
			fmt.Fprintf(c.stderr, "signintokens %s: %d tokens were made whose lines could not be written (revoke them or record them):\n", job.name, len(lost))
			for _, l := range lost {
				fmt.Fprintf(c.stderr, "  %s %s\n", l.key(job.column), l.ID)
			}
		}
		code = exitAPIError
	}
	if readErr != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: reading --from: %v\n", job.name, readErr)
		code = exitAPIError
	}
	if st.uncertain > 0 {
		c.reportUncertain(job, p)
		code = exitAPIError
	}
	switch {
	case st.interrupted:
		return exitInterrupted
	case st.failed > 0:
		return exitAPIError
	}
	return code
}

// reportUncertain lists the users a resumed run left alone because the
// interrupted run may already have made their token.
func (c cli) reportUncertain(job bulkJob, p prior) {
	ids := make([]string, 0, len(p.uncertain))
	for id := range p.uncertain {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fmt.Fprintf(c.stderr, "signintokens %s: %d users may already have a token from the interrupted run; "+
		"check them, then run again with --recreate-uncertain to create theirs:\n  %s\n",
		job.name, len(ids), strings.Join(ids, "\n  "))
}

// summary is the run's last line on stderr.
func summary(name string, st bulkStats, total int) string {
	n := st.done + st.failed
	rate := float64(n) / max(st.took.Seconds(), 0.001)
	s := fmt.Sprintf("signintokens %s: %d done, %d failed, %d skipped (--resume), %d duplicate, %d not started",
		name, st.done, st.failed, st.skipped, st.duplicate, st.notStarted)
	if st.uncertain > 0 {
		s += fmt.Sprintf(", %d held back (may already have a token)", st.uncertain)
	}
	s += fmt.Sprintf(" in %s (%.0f/s)", st.took.Round(time.Millisecond), rate)
	if st.interrupted {
		s += "; interrupted"
		if total < 0 {
			s += ", and the rest of the input was not read"
		}
		s += ": run again with --resume"
	}
	return s
}

// progressLine is the progress bar's text: done, failed, rate, time left.
func progressLine(st bulkStats, total int, elapsed time.Duration) string {
	n := st.done + st.failed
	rate := float64(n) / max(elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%d done, %d failed, %.0f/s", st.done, st.failed, rate)
	if left := total - st.read; total >= 0 && rate > 0 && left >= 0 {
		s += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		if total > 0 {
			s = fmt.Sprintf("[%3d%%] ", 100*st.read/total) + s
		}
	}
	return s
}
