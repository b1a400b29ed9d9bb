package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/bulk"
	"github.com/clerkgo/signintokens/internal/idinput"
	"github.com/clerkgo/signintokens/internal/journal"
	"github.com/clerkgo/signintokens/redislimit"
)

// defaultTokenLife is how long Clerk keeps a sign-in token valid when the
// create does not say.
const defaultTokenLife = 30 * 24 * time.Hour

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
	timeout               *time.Duration
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
		timeout: fs.Duration("timeout", client.DefaultTimeout, "with --from: how long one attempt waits for its answer, "+
			"counting only the time this process runs (a stopped or suspended process's pause is not counted)"),
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
	case *b.timeout <= 0:
		return c.usageError(fs, "--timeout must be positive, such as 10s"), false
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
// client, keeping a connection for each call in flight, under what the
// run needs of it (bulk.ClientOptions).
func (b bulkFlags) clientOptions(limiter client.Limiter, bar *bulk.Progress) []client.Option {
	policy := client.DefaultRetryPolicy()
	policy.MaxRetries = bulkRetries
	hc := client.NewHTTPClient(max(*b.concurrency, client.DefaultMaxIdleConnsPerHost))
	opts := append(bulk.ClientOptions(hc, bar, *b.timeout), client.WithRetryPolicy(policy))
	switch {
	case limiter != nil:
		opts = append(opts, client.WithLimiter(limiter))
	case *b.rate > 0:
		opts = append(opts, client.WithRateLimit(*b.rate, 1))
	}
	return opts
}

// bulkJob is a bulk run's job, for the calls of one client: what send
// makes of the job's client and an ID.
type bulkJob struct {
	bulk.Job
	send func(ctx context.Context, cl *client.Client, id string) (bulk.Made, error)
}

// bulk runs job, on one client configured by the bulk flags, for each ID in
// the --from file, writes JSON Lines to stdout (and the --journal file), a
// progress line to stderr when it is a terminal, and a summary.
func (c cli) bulk(ctx context.Context, job bulkJob, serverURL string, bf bulkFlags) int {
	bar := bulk.NewProgress(c.stderr, c.progress, c.width)
	limiter, rdb, closeLimiter, err := c.sharedLimiter(ctx, bf)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: --redis-url: %s; nothing was sent\n", job.Name, err)
		if errors.As(err, new(*redisDown)) {
			return exitAPIError
		}
		return exitUsage
	}
	defer closeLimiter()
	cl, err := c.newClient(serverURL, bf.clientOptions(limiter, bar)...)
	if err != nil {
		return c.fail(err, false)
	}
	defer cl.CloseIdleConnections()
	job.Send = func(ctx context.Context, id string) (bulk.Made, error) { return job.send(ctx, cl, id) }
	in, total, closeSrc, code := c.openInput(job.Job, *bf.from)
	if in == nil {
		return code
	}
	defer closeSrc()
	rec, code := c.openRecord(job.Job, bf)
	if rec == nil {
		return code
	}
	defer rec.Close()
	opts := bulk.Options{Concurrency: *bf.concurrency, Prior: rec.Prior, Recreate: bf.recreate != nil && *bf.recreate}
	if rdb != nil && job.Creates {
		opts.Claims = bulk.NewClaims(rdb, c.getenv("CLERK_SECRET_KEY"), rec.File, rec.Resumed, tokenLife(job.Header), opts.Recreate)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	w := journal.NewWriter(job.Header, stop, rec.Sinks...)
	if rec.Resumed != nil {
		if err := journal.CarrySettled(rec.Resumed, w, job.Header, rec.Prior, job.Creates); err != nil {
			fmt.Fprintf(c.stderr, "signintokens %s: writing the resumed run's record: %v; nothing was sent\n", job.Name, err)
			return exitAPIError
		}
	}
	bar.Start(total)
	stopNotice := context.AfterFunc(ctx, func() { bar.Say(stopping(ctx)) })
	defer stopNotice()
	st := bulk.Run(runCtx, job.Job, in, opts, w, bar)
	_ = w.Durable()
	bar.End(st)
	if total >= 0 {
		// An input that grew while the run read it has more lines than
		// counted: none of them is "not started" below zero.
		st.NotStarted += max(total-st.Read, 0)
	}
	fmt.Fprintln(c.stderr, st.Summary(job.Name, total, ctx.Err() != nil, limiter != nil))
	return c.report(ctx, job.Job, st, w)
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

// openRecord opens what the run records to and resumes from (see
// journal.OpenRecord). A nil record means the run must not start and
// exits with code.
func (c cli) openRecord(job bulk.Job, bf bulkFlags) (*journal.Record, int) {
	rec, err := journal.OpenRecord(*bf.journal, *bf.resume, c.stdout, job.Header)
	if err == nil {
		return rec, exitOK
	}
	code, what := exitUsage, "stdout"
	if se := (*journal.SourceError)(nil); errors.As(err, &se) {
		switch {
		case se.Write:
			code = exitAPIError
		case se.Path == *bf.journal:
			what = "--journal " + se.Path
		case se.Path == *bf.resume:
			what = "--resume " + se.Path
		}
		err = se.Err
	}
	if errors.Is(err, journal.ErrNowhere) {
		err = errors.New("it is /dev/null or closed, and there is no --journal: the run would be recorded nowhere")
	}
	fmt.Fprintf(c.stderr, "signintokens %s: %s: %v; nothing was sent\n", job.Name, what, err)
	return nil, code
}

// openInput opens the --from input and counts its IDs (-1 when it cannot be
// read twice, as stdin). An input it refuses is reported and in is nil.
func (c cli) openInput(job bulk.Job, from string) (in *idinput.Reader, total int, closeSrc func(), code int) {
	refuse := func(err error) (*idinput.Reader, int, func(), int) {
		fmt.Fprintf(c.stderr, "signintokens %s: --from: %v; nothing was sent\n", job.Name, err)
		return nil, 0, nil, exitUsage
	}
	total, err := idinput.Count(from, job.Header.Key, journalInput(job))
	if err != nil {
		return refuse(err)
	}
	src, closeSrc, err := c.open(from)
	if err != nil {
		return refuse(err)
	}
	if in, err = idinput.New(src, job.Header.Key, journalInput(job)); err != nil {
		closeSrc()
		return refuse(err)
	}
	return in, total, closeSrc, exitOK
}

// journalInput is the kind of journal whose made IDs are job's input: a
// revoke reads a create journal's tokens.
func journalInput(job bulk.Job) string {
	if job.Name == "revoke" {
		return "create"
	}
	return ""
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

// report writes what the run could not write, and which users of this
// input it held back, and returns the exit status.
func (c cli) report(ctx context.Context, job bulk.Job, st bulk.Stats, w *journal.Writer) int {
	lost, writeErr := w.Failure()
	code := exitOK
	if writeErr != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: writing the output: %v; the run stopped\n", job.Name, writeErr)
		if len(lost) > 0 {
			fmt.Fprintf(c.stderr, "signintokens %s: %d tokens were made whose lines an output that failed lacks (revoke them or record them):\n", job.Name, len(lost))
			for _, l := range lost {
				fmt.Fprintf(c.stderr, "  %s %s\n", l.Key, l.ID)
			}
		}
		code = exitAPIError
	}
	if st.ReadErr != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: reading --from: %v\n", job.Name, st.ReadErr)
		code = exitAPIError
	}
	if len(st.Held) > 0 {
		slices.Sort(st.Held)
		fmt.Fprintf(c.stderr, "signintokens %s: %s may already have a token: an earlier run sent their create "+
			"and never learnt its outcome. Check them (Clerk's Dashboard logs sign_in_token.created events), then "+
			"run again with --recreate-uncertain to create theirs:\n  %s\n", job.Name, bulk.CountUsers(len(st.Held)), strings.Join(st.Held, "\n  "))
		code = exitAPIError
	}
	if len(st.Claimed) > 0 {
		slices.Sort(st.Claimed)
		fmt.Fprintf(c.stderr, "signintokens %s: %s claimed by another run sharing this Redis and key, which "+
			"creates their tokens (or did): check them, then run again with --recreate-uncertain to create theirs:\n  %s\n",
			job.Name, bulk.CountUsers(len(st.Claimed)), strings.Join(st.Claimed, "\n  "))
		code = exitAPIError
	}
	switch {
	case ctx.Err() != nil:
		return interruptedCode(ctx)
	case errors.Is(writeErr, syscall.EPIPE):
		// A closed pipe on stdout, found by the write before SIGPIPE's
		// notice reached the run: the same stop.
		return 128 + int(syscall.SIGPIPE)
	case st.Failed > 0 || st.Stopped != "":
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

// tokenLife is how long the run's tokens stay valid, and so its claims.
func tokenLife(h journal.Header) time.Duration {
	if h.ExpiresInSeconds > 0 {
		return time.Duration(h.ExpiresInSeconds) * time.Second
	}
	return defaultTokenLife
}
