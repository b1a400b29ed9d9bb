package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerkgo/signintokens/client"
)

// defaultRate keeps a bulk run under Clerk's development limit of 100
// requests per 10 s.
const defaultRate = 9

// bulkRetries is how often a bulk call is retried: enough to ride out a few
// rate-limit windows, each of which pauses the whole run together.
const bulkRetries = 5

// bulkFlags are the flags of a run over a file of IDs.
type bulkFlags struct {
	from, resume *string
	concurrency  *int
	rate         *float64
}

func addBulkFlags(fs *flag.FlagSet, what string) bulkFlags {
	return bulkFlags{
		from:        fs.String("from", "", "for each "+what+" in FILE (one per line, or a CSV with a header; - for stdin); prints JSON Lines"),
		resume:      fs.String("resume", "", "with --from: skip IDs that have a success line in OUT, a previous run's output"),
		concurrency: fs.Int("concurrency", 4, "with --from: calls at once"),
		rate:        fs.Float64("rate", defaultRate, "with --from: requests per second at most, across all calls; 0 for no limit"),
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
	}
	return exitOK, true
}

// clientOptions are the client options of a bulk run: the rate limit,
// retries enough to ride out a few rate-limit windows, and an HTTP client
// that keeps a connection for each call in flight, so that none dials again.
func (b bulkFlags) clientOptions() []client.Option {
	policy := client.DefaultRetryPolicy()
	policy.MaxRetries = bulkRetries
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(*b.concurrency, client.DefaultMaxIdleConnsPerHost)
	tr.MaxIdleConns = max(tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	opts := []client.Option{client.WithRetryPolicy(policy), client.WithHTTPClient(&http.Client{Transport: tr})}
	if *b.rate > 0 {
		opts = append(opts, client.WithRateLimit(*b.rate, 1))
	}
	return opts
}

// bulkJob is one kind of bulk run: what an input line names, and what to do
// with it.
type bulkJob struct {
	name string // create or revoke
	// column names the input's IDs: the JSON field of each output line and
	// the CSV column to read.
	column string
	do     func(ctx context.Context, id string) (*client.SignInToken, error)
}

// bulkLine is one line of output, for one input ID.
type bulkLine struct {
	UserID        string     `json:"user_id,omitempty"`
	SignInTokenID string     `json:"sign_in_token_id,omitempty"`
	ID            string     `json:"id,omitempty"`
	Status        string     `json:"status,omitempty"`
	URL           string     `json:"url,omitempty"`
	Error         *errorInfo `json:"error,omitempty"`
}

func (l *bulkLine) setKey(column, id string) {
	if column == "user_id" {
		l.UserID = id
	} else {
		l.SignInTokenID = id
	}
}

func (l *bulkLine) key(column string) string {
	if column == "user_id" {
		return l.UserID
	}
	return l.SignInTokenID
}

// bulkStats is what a run did.
type bulkStats struct {
	done, failed, skipped, notStarted int
	maxPending                        int // most results held back to keep input order
	interrupted                       bool
	took                              time.Duration
}

// runBulk calls job.do for each ID of in, concurrency at a time, and writes
// one JSON line per ID to out, in input order. IDs in skip are passed over.
// When ctx ends, no new call starts; calls under way finish and their lines
// are written. At most window IDs are between reading and writing, so memory
// does not grow with the input.
func runBulk(ctx context.Context, job bulkJob, in *idReader, skip map[string]bool, concurrency int, out io.Writer, tick func(bulkStats)) (bulkStats, error) {
	type item struct {
		seq int
		id  string
	}
	type result struct {
		seq     int
		line    *bulkLine // nil: not started
		started bool
	}
	window := concurrency * 8
	slots := make(chan struct{}, window)
	items := make(chan item)
	results := make(chan result, concurrency)
	start := time.Now()
	var st bulkStats
	var readErr error
	var skipped int

	go func() {
		defer close(items)
		for seq := 0; ctx.Err() == nil; {
			id, err := in.next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			if skip[id] {
				skipped++
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case items <- item{seq, id}:
				seq++
			case <-ctx.Done():
				return
			}
		}
	}()

	// Calls under way when ctx ends still finish: their outcome is written,
	// so that a resumed run knows which users already have a token.
	callCtx := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for it := range items {
				if ctx.Err() != nil {
					results <- result{seq: it.seq}
					continue
				}
				line := &bulkLine{}
				line.setKey(job.column, it.id)
				tok, err := job.do(callCtx, it.id)
				if err != nil {
					info, _ := describe(err)
					line.Error = &info
				} else if tok != nil {
					line.ID, line.Status = tok.ID, string(tok.Status)
					if tok.URL != nil {
						line.URL = *tok.URL
					}
				}
				results <- result{seq: it.seq, line: line, started: true}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	enc := json.NewEncoder(out)
	pending := map[int]result{}
	next := 0
	var writeErr error
	for r := range results {
		pending[r.seq] = r
		st.maxPending = max(st.maxPending, len(pending))
		for p, ok := pending[next]; ok; p, ok = pending[next] {
			delete(pending, next)
			next++
			<-slots
			switch {
			case !p.started:
				st.notStarted++
				continue
			case p.line.Error != nil:
				st.failed++
			default:
				st.done++
			}
			if err := enc.Encode(p.line); err != nil && writeErr == nil {
				writeErr = err
			}
		}
		if tick != nil {
			tick(st)
		}
	}
	st.skipped = skipped // the reader has finished: items is closed
	st.interrupted = ctx.Err() != nil
	st.took = time.Since(start)
	return st, errors.Join(readErr, writeErr)
}

// idReader streams IDs from a file of one ID per line (blank lines and #
// comments skipped) or from a CSV file with a header naming the column.
type idReader struct {
	lines  *bufio.Reader
	csv    *csv.Reader
	col    int
	column string
}

func newIDReader(r io.Reader, column string) (*idReader, error) {
	in := &idReader{lines: bufio.NewReader(r), column: column}
	first, err := in.nextLine()
	switch {
	case errors.Is(err, io.EOF):
		return in, nil
	case err != nil:
		return nil, err
	case !strings.Contains(first, ",") && first != column:
		in.lines = bufio.NewReader(io.MultiReader(strings.NewReader(first+"\n"), in.lines))
		return in, nil
	}
	in.csv = csv.NewReader(io.MultiReader(strings.NewReader(first+"\n"), in.lines))
	in.csv.Comment, in.csv.FieldsPerRecord, in.csv.ReuseRecord = '#', -1, true
	header, err := in.csv.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	in.col = slices.Index(header, column)
	if in.col < 0 {
		return nil, fmt.Errorf("the CSV header has no %s column", column)
	}
	return in, nil
}

// next returns the next ID, or io.EOF.
func (in *idReader) next() (string, error) {
	if in.csv == nil {
		return in.nextLine()
	}
	for {
		rec, err := in.csv.Read()
		if err != nil {
			return "", err
		}
		if in.col < len(rec) {
			if id := strings.TrimSpace(rec[in.col]); id != "" {
				return id, nil
			}
		}
	}
}

// nextLine returns the next line that is neither blank nor a comment.
func (in *idReader) nextLine() (string, error) {
	for {
		line, err := in.lines.ReadString('\n')
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// readDone returns the IDs that have a success line in a previous run's
// output. A missing file is an empty run; a line cut short by a crash is
// passed over.
func readDone(path, column string) (map[string]bool, error) {
	done := map[string]bool{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l bulkLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Error == nil && l.key(column) != "" {
			done[l.key(column)] = true
		}
	}
	return done, sc.Err()
}

// countIDs counts the IDs in a file, for the progress bar's time left;
// -1 when the input is not a regular file.
func countIDs(path, column string) int {
	if path == "-" {
		return -1
	}
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	in, err := newIDReader(f, column)
	if err != nil {
		return -1
	}
	n := 0
	for _, err := in.next(); err == nil; _, err = in.next() {
		n++
	}
	return n
}

// isTerminal reports whether f is a character device, such as a terminal.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressLine is the progress bar's text: done, failed, rate, time left.
func progressLine(st bulkStats, total int, elapsed time.Duration) string {
	n := st.done + st.failed
	rate := float64(n) / max(elapsed.Seconds(), 0.001)
	s := fmt.Sprintf("%d done, %d failed, %.0f/s", st.done, st.failed, rate)
	if left := total - n - st.skipped; total >= 0 && rate > 0 && left >= 0 {
		s += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		if total > 0 {
			s = fmt.Sprintf("[%3d%%] ", 100*(n+st.skipped)/total) + s
		}
	}
	return s
}

// bulk runs call, on one client configured by the bulk flags, for each ID in
// the --from file (column names the IDs), writes JSON Lines to stdout, a
// progress bar to stderr when it is a terminal, and a summary.
func (c cli) bulk(ctx context.Context, name, column, serverURL string, bf bulkFlags,
	call func(context.Context, *client.Client, string) (*client.SignInToken, error)) int {
	cl, err := c.newClient(serverURL, bf.clientOptions()...)
	if err != nil {
		return c.fail(err, false)
	}
	defer cl.CloseIdleConnections()
	job := bulkJob{name: name, column: column, do: func(ctx context.Context, id string) (*client.SignInToken, error) {
		return call(ctx, cl, id)
	}}
	from, resume, concurrency := *bf.from, *bf.resume, *bf.concurrency
	skip := map[string]bool{}
	if resume != "" {
		var err error
		if skip, err = readDone(resume, job.column); err != nil {
			fmt.Fprintf(c.stderr, "signintokens %s: --resume: %v\n", job.name, err)
			return exitUsage
		}
	}
	var src io.Reader = c.stdin
	if from != "-" {
		f, err := os.Open(from)
		if err != nil {
			fmt.Fprintf(c.stderr, "signintokens %s: --from: %v\n", job.name, err)
			return exitUsage
		}
		defer f.Close()
		src = f
	}
	in, err := newIDReader(src, job.column)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: --from: %v\n", job.name, err)
		return exitUsage
	}

	var tick func(bulkStats)
	if c.progress != nil {
		total, start, last := countIDs(from, job.column), time.Now(), time.Time{}
		tick = func(st bulkStats) {
			if time.Since(last) >= 200*time.Millisecond {
				last = time.Now()
				fmt.Fprintf(c.progress, "\r%-70s", progressLine(st, total, time.Since(start)))
			}
		}
	}
	st, err := runBulk(ctx, job, in, skip, concurrency, c.stdout, tick)
	if c.progress != nil {
		fmt.Fprint(c.progress, "\r\033[K")
	}
	rate := float64(st.done+st.failed) / max(st.took.Seconds(), 0.001)
	summary := fmt.Sprintf("signintokens %s: %d done, %d failed, %d skipped (--resume) in %s (%.0f/s)",
		job.name, st.done, st.failed, st.skipped, st.took.Round(time.Millisecond), rate)
	if st.interrupted {
		summary += fmt.Sprintf("; interrupted, %d not started: run again with --resume", st.notStarted)
	}
	fmt.Fprintln(c.stderr, summary)
	if err != nil {
		fmt.Fprintf(c.stderr, "signintokens %s: %v\n", job.name, err)
		return exitAPIError
	}
	if st.failed > 0 || st.interrupted {
		return exitAPIError
	}
	return exitOK
}
