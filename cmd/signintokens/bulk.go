package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/redislimit"
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
	from, journal, resume *string
	redisURL              *string
	concurrency           *int
	rate                  *float64
	recreate              *bool // nil for revoke
}

func addBulkFlags(fs *flag.FlagSet, what string, creates bool) bulkFlags {
	bf := bulkFlags{
		from: fs.String("from", "", "for each "+what+" in FILE (one per line, a CSV with a header, or a create journal "+
			"for revoke; - for stdin); prints JSON Lines"),
		journal: fs.String("journal", "", "with --from: the run's journal, locked and synced; an existing one is resumed "+
			"(run the same command again)"),
		resume:      fs.String("resume", "", "with --from: skip IDs that have a success line in OUT, a previous run's stdout"),
		concurrency: fs.Int("concurrency", 4, "with --from: calls at once"),
		redisURL: fs.String("redis-url", "", "with --from: share --rate, and 429 pauses, with every run that uses this "+
			"Redis and the same key (default $SIGNINTOKENS_REDIS_URL)"),
		rate: fs.Float64("rate", defaultRate, "with --from: requests per second at most, across all calls; 0 for no limit"),
	}
	if creates {
		bf.recreate = fs.Bool("recreate-uncertain", false,
			"when resuming: create again for users whose earlier create may have happened (check them first: they may get a second token)")
	}
	return bf
}

// check validates the bulk flags; ok false means exit with code.
func (b bulkFlags) check(c cli, fs *flag.FlagSet) (code int, ok bool) {
	switch {
	case *b.concurrency < 1:
		return c.usageError(fs, "--concurrency must be at least 1"), false
	case *b.rate < 0:
		return c.usageError(fs, "--rate must not be negative"), false
	case *b.from == "" && (*b.resume != "" || *b.journal != ""):
		return c.usageError(fs, "--resume and --journal go with --from"), false
	case *b.resume != "" && *b.journal != "":
		return c.usageError(fs, "give --journal or --resume, not both: a journal resumes by itself"), false
	case *b.redisURL != "" && *b.rate == 0:
		return c.usageError(fs, "--redis-url shares --rate: give a rate above 0"), false
	case b.recreate != nil && *b.recreate && *b.resume == "" && *b.journal == "":
		return c.usageError(fs, "--recreate-uncertain goes with --journal or --resume"), false
	}
	return exitOK, true
}

// clientOptions are the client options of a bulk run: the rate limit,
// retries enough to ride out a few rate-limit windows, and the SDK's HTTP
// client, keeping a connection for each call in flight, under a doer that
// lets a sent call finish after Ctrl-C (see finishSent), and the hook that
// writes a create's intent line before it is sent (see sending).
func (b bulkFlags) clientOptions(limiter client.Limiter) []client.Option {
	policy := client.DefaultRetryPolicy()
	policy.MaxRetries = bulkRetries
	hc := client.NewHTTPClient(max(*b.concurrency, client.DefaultMaxIdleConnsPerHost))
	opts := []client.Option{client.WithRetryPolicy(policy), client.WithHTTPClient(finishSent{hc}), client.WithSendHook(sending)}
	switch {
	case limiter != nil:
		opts = append(opts, client.WithLimiter(limiter))
	case *b.rate > 0:
		opts = append(opts, client.WithRateLimit(*b.rate, 1))
	}
	return opts
}

// bulk runs call, on one client configured by the bulk flags, for each ID in
// the --from file (column names the IDs), writes JSON Lines to stdout (and
// the --journal file), a progress line to stderr when it is a terminal, and
// a summary.
func (c cli) bulk(ctx context.Context, job bulkJob, serverURL string, bf bulkFlags) int {
	bar := c.newProgress(-1)
	limiter, rdb, closeLimiter, err := c.sharedLimiter(ctx, bf)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: --redis-url: %s; nothing was sent\n", job.name, err)
		if errors.As(err, new(*redisDown)) {
			return exitAPIError
		}
		return exitUsage
	}
	defer closeLimiter()
	cl, err := c.newClient(serverURL, append(bf.clientOptions(limiter), client.WithLogger(slog.New(retryNotices{bar})))...)
	if err != nil {
		return c.fail(err, false)
	}
	defer cl.CloseIdleConnections()
	opts := runOptions{client: cl, concurrency: *bf.concurrency, recreate: bf.recreate != nil && *bf.recreate}
	in, total, closeSrc, code := c.openInput(job, *bf.from)
	if in == nil {
		return code
	}
	defer closeSrc()
	sinks, closeRecord, code := c.openRecord(job, bf, &opts)
	if closeRecord == nil {
		return code
	}
	defer closeRecord()
	if rdb != nil && job.creates {
		own := []string{recordIdentity(opts.record)}
		if opts.resumed != nil {
			own = append(own, recordIdentity(opts.resumed))
		}
		opts.claims = newClaims(rdb, c.getenv("CLERK_SECRET_KEY"), own, tokenLife(job.header), opts.recreate)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	j := &journal{sinks: sinks, stop: stop}
	if opts.resumed != nil {
		if err := carrySettled(opts.resumed, j, job, opts.prior); err != nil {
			fmt.Fprintf(c.stderr, "signintokens %s: writing the resumed run's record: %v; nothing was sent\n", job.name, err)
			return exitAPIError
		}
	}
	bar.total, bar.start = total, time.Now()
	stopNotice := context.AfterFunc(ctx, func() { bar.say(stopping(ctx)) })
	defer stopNotice()
	st, held, claimed, readErr := runBulk(runCtx, job, in, opts, j, bar)
	j.close()
	bar.end(st)
	st.interrupted = ctx.Err() != nil
	if total >= 0 {
		// An input that grew while the run read it has more lines than
		// counted: none of them is "not started" below zero.
		st.notStarted += max(total-st.read, 0)
	}
	st.shared = limiter != nil
	st.met429 = bar.count429()
	return c.report(ctx, job, st, held, claimed, total, readErr, j)
}

// sharedLimiter is the rate shared through Redis, when --redis-url (or
// SIGNINTOKENS_REDIS_URL) names one: keyed by the secret key, so that runs
// with one Redis and one key share --rate; nil otherwise. Redis must answer
// a PING first, within redisPingTimeout: a run never starts without the
// shared limit it was asked for (a *redisDown error).
func (c cli) sharedLimiter(ctx context.Context, bf bulkFlags) (client.Limiter, *redis.Client, func(), error) {
	url := *bf.redisURL
	if url == "" {
		url = c.getenv("SIGNINTOKENS_REDIS_URL")
	}
	if url == "" || *bf.rate == 0 {
		return nil, nil, func() {}, nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, nil, errors.New("not a redis:// or rediss:// URL") // the URL may hold a password
	}
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, nil, &redisDown{addr: opts.Addr, err: err}
	}
	return redislimit.New(rdb, c.getenv("CLERK_SECRET_KEY"), *bf.rate, 1), rdb, func() { rdb.Close() }, nil
}

// redisPingTimeout bounds the PING that checks --redis-url before a run.
const redisPingTimeout = 5 * time.Second

// redisDown is a Redis that did not answer before a run.
type redisDown struct {
	addr string
	err  error
}

// Error is one printable line: Redis's own text (an AUTH refusal) is
// quoted as Go would, were it anything else.
func (e *redisDown) Error() string {
	q := strconv.Quote(e.err.Error())
	return fmt.Sprintf("Redis at %s did not answer: %s", e.addr, q[1:len(q)-1])
}

// openRecord opens what the run records to and resumes from: the
// --journal file, or the --resume file; stdout gets the journal's header
// first, so that a closed or unwritable stdout is found before any call. A
// nil closeRecord means the run must not start and exits with code.
func (c cli) openRecord(job bulkJob, bf bulkFlags, opts *runOptions) (sinks []sink, closeRecord func(), code int) {
	refuse := func(flagName string, err error) ([]sink, func(), int) {
		fmt.Fprintf(c.stderr, "signintokens %s: %s: %v; nothing was sent\n", job.name, flagName, err)
		return nil, nil, exitUsage
	}
	closeRecord = func() {}
	switch {
	case *bf.journal != "":
		f, p, err := openJournal(*bf.journal, c.stdout, job.header, job.column)
		if err != nil {
			return refuse("--journal "+*bf.journal, err)
		}
		opts.prior, opts.record, closeRecord = p, f, func() { f.Close() }
		sinks = append(sinks, sink{w: f, sync: newSyncer(f)})
	case *bf.resume != "":
		f, p, err := openResume(*bf.resume, c.stdout, job.header, job.column)
		if err != nil {
			return refuse("--resume "+*bf.resume, err)
		}
		opts.prior, opts.resumed, closeRecord = p, f, func() { f.Close() }
	}
	if len(sinks) == 0 && isDevNull(c.stdout) {
		closeRecord()
		fmt.Fprintf(c.stderr, "signintokens %s: stdout is /dev/null or closed, and there is no --journal: the run "+
			"would be recorded nowhere; nothing was sent\n", job.name)
		return nil, nil, exitUsage
	}
	out := newSink(c.stdout)
	if out.sync != nil {
		// A file: locked for the run, so that no run resumes from an
		// output still being written.
		if err := lockFile(out.w.(*os.File)); err != nil {
			closeRecord()
			fmt.Fprintf(c.stderr, "signintokens %s: stdout: %v; nothing was sent\n", job.name, err)
			return nil, nil, exitUsage
		}
		if opts.record == nil {
			opts.record = out.w.(*os.File)
		}
	}
	if err := writeHeader(out.w, job.header); err != nil {
		closeRecord()
		fmt.Fprintf(c.stderr, "signintokens %s: cannot write to stdout: %v; nothing was sent\n", job.name, err)
		return nil, nil, exitAPIError
	}
	return append(sinks, out), closeRecord, exitOK
}

// isDevNull reports whether w is /dev/null: where Go puts a stdout that was
// closed when the process started (>&-), as well as > /dev/null.
func isDevNull(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}

// writeHeader writes a journal's first line to w.
func writeHeader(w io.Writer, h journalHeader) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// openInput opens the --from input and counts its IDs (-1 when it cannot be
// read twice, as stdin). An input it refuses is reported and in is nil.
func (c cli) openInput(job bulkJob, from string) (in *idReader, total int, closeSrc func(), code int) {
	refuse := func(err error) (*idReader, int, func(), int) {
		fmt.Fprintf(c.stderr, "signintokens %s: --from: %v; nothing was sent\n", job.name, err)
		return nil, 0, nil, exitUsage
	}
	total, err := countIDs(from, job.column)
	if err != nil {
		return refuse(err)
	}
	src, closeSrc, err := c.open(from)
	if err != nil {
		return refuse(err)
	}
	if in, err = newIDReader(src, job.column); err != nil {
		closeSrc()
		return refuse(err)
	}
	return in, total, closeSrc, exitOK
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

// report writes the run's summary, what it could not write, and which
// users of this input it held back, and returns the exit status.
func (c cli) report(ctx context.Context, job bulkJob, st bulkStats, held, claimed []string, total int, readErr error, j *journal) int {
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
	if len(held) > 0 {
		slices.Sort(held)
		fmt.Fprintf(c.stderr, "signintokens %s: %s may already have a token: an earlier run sent their create "+
			"and never learnt its outcome. Check them (Clerk's Dashboard logs sign_in_token.created events), then "+
			"run again with --recreate-uncertain to create theirs:\n  %s\n", job.name, countUsers(len(held)), strings.Join(held, "\n  "))
		code = exitAPIError
	}
	if len(claimed) > 0 {
		slices.Sort(claimed)
		fmt.Fprintf(c.stderr, "signintokens %s: %s claimed by another run sharing this Redis and key, which "+
			"creates their tokens (or did): check them, then run again with --recreate-uncertain to create theirs:\n  %s\n",
			job.name, countUsers(len(claimed)), strings.Join(claimed, "\n  "))
		code = exitAPIError
	}
	switch {
	case st.interrupted:
		return interruptedCode(ctx)
	case errors.Is(writeErr, syscall.EPIPE):
		// A closed pipe on stdout, found by the write before SIGPIPE's
		// notice reached the run: the same stop.
		return 128 + int(syscall.SIGPIPE)
	case st.failed > 0 || st.stopped != "":
		return exitAPIError
	}
	return code
}

// stopping is the notice a run gives when a signal stops it: Ctrl-C
// again quits at once; another signal (a closed terminal, a SIGTERM) is
// named.
func stopping(ctx context.Context) string {
	var s signalled
	if errors.As(context.Cause(ctx), &s) && s.sig != os.Interrupt {
		return "signintokens: stopping on " + s.sig.String() + ": calls in flight finish"
	}
	return "signintokens: stopping (Ctrl-C again to quit at once)"
}

// countUsers is "1 user" or "N users".
func countUsers(n int) string {
	if n == 1 {
		return "1 user"
	}
	return strconv.Itoa(n) + " users"
}

// tokenLife is how long the run's tokens stay valid, and so its claims.
func tokenLife(h journalHeader) time.Duration {
	if h.ExpiresInSeconds > 0 {
		return time.Duration(h.ExpiresInSeconds) * time.Second
	}
	return defaultTokenLife
}

// summary is the run's last line on stderr.
func summary(name string, st bulkStats, total int) string {
	rate := float64(st.sent) / max(st.took.Seconds(), 0.001)
	s := fmt.Sprintf("signintokens %s: %d done, %d failed", name, st.done, st.failed)
	if st.maybeMade > 0 {
		s += fmt.Sprintf(" (%d of them may have made a token: their create was sent)", st.maybeMade)
	}
	s += fmt.Sprintf(", %d skipped (done before), %d duplicate, %d not started", st.skipped, st.duplicate, st.notStarted)
	if st.heldBack > 0 {
		s += fmt.Sprintf(", %d held back (may already have a token)", st.heldBack)
	}
	if st.sent == 0 {
		s += fmt.Sprintf(" in %s (nothing was sent", st.took.Round(time.Millisecond))
	} else {
		s += fmt.Sprintf(" in %s (%.0f/s", st.took.Round(time.Millisecond), rate)
	}
	if st.shared {
		s += ", the rate shared through Redis"
	}
	if st.met429 > 0 {
		s += fmt.Sprintf(", %d answers of 429", st.met429)
	}
	s += ")"
	switch {
	case st.interrupted:
		s += "; interrupted"
	case st.stopped != "":
		s += "; stopped: " + st.stopped
	}
	if st.interrupted || st.stopped != "" {
		if total < 0 {
			s += ", and the rest of the input was not read"
		}
		s += ": run the same command again to resume"
	}
	return s
}
