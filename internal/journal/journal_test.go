package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var createHeader = Header{Journal: Magic, Version: Version, Kind: "create", Key: "user_id"}

// recorder is a sink that records, in order, each line written and each
// sync, and fails its syncs with syncErr.
type recorder struct {
	mu      sync.Mutex
	events  []string
	syncErr error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "write "+strings.TrimSpace(string(p)))
	return len(p), nil
}

func (r *recorder) sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "sync")
	return r.syncErr
}

// syncedAfter reports whether a sync follows the write of line.
func (r *recorder) syncedAfter(line string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	wrote := -1
	for i, e := range r.events {
		if e == "write "+line {
			wrote = i
		}
		if e == "sync" && wrote >= 0 {
			return true
		}
	}
	return false
}

func (r *recorder) sink() Sink { return Sink{W: r, Sync: r.sync} }

// A line saying a call is about to be sent is durable in every synced sink
// before Write returns, whatever other writers do meanwhile; an outcome
// line is not waited for.
func TestWriter_intentDurableBeforeWrite(t *testing.T) {
	t.Parallel()
	synced, unsynced := &recorder{}, &bytes.Buffer{}
	w := NewWriter(createHeader, func() { t.Error("stopped") }, synced.sink(), Sink{W: unsynced})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			l := &Line{Key: fmt.Sprint("user_", i), Line: i + 1, Sending: true}
			require.NoError(t, w.Write(l))
			b, err := newCodec("user_id").marshal(l)
			require.NoError(t, err)
			assert.True(t, synced.syncedAfter(string(b)), "line %d returned before a sync covered it", i)
		})
	}
	wg.Wait()
	before := len(synced.events)
	require.NoError(t, w.Write(&Line{Key: "user_0", Line: 1, ID: "sit_1"}))
	assert.Equal(t, []string{"write " + strings.TrimSpace(lastLine(unsynced.String()))}, synced.events[before:], "no sync for an outcome")
	assert.Equal(t, 17, strings.Count(unsynced.String(), "\n"), "every line in every sink")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// A failed sync fails the intent's Write, stops the run once, and nothing
// is written after it; a credential made whose line was lost is kept.
func TestWriter_failedSyncStopsTheOutput(t *testing.T) {
	t.Parallel()
	r := &recorder{syncErr: syscall.EIO}
	stops := 0
	w := NewWriter(createHeader, func() { stops++ }, r.sink())
	err := w.Write(&Line{Key: "user_1", Line: 1, Sending: true})
	require.ErrorIs(t, err, syscall.EIO)
	n := len(r.events)
	assert.ErrorIs(t, w.Write(&Line{Key: "user_1", Line: 1, ID: "sit_1"}), syscall.EIO)
	assert.ErrorIs(t, w.Write(&Line{Key: "user_2", Line: 2, Sending: true}), syscall.EIO)
	assert.Len(t, r.events, n, "nothing written after the failure")
	assert.Equal(t, 1, stops)
	lost, err := w.Failure()
	assert.ErrorIs(t, err, syscall.EIO)
	assert.Equal(t, []Line{{Key: "user_1", ID: "sit_1"}}, lost)
}

// A line keeps its input ID under the header's key, after its seq: the
// format the README documents.
func TestLine_format(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		line Line
		want string
	}{
		{"user_id", Line{Seq: 3, Key: "user_1", Line: 4, Sending: true}, `{"seq":3,"user_id":"user_1","line":4,"sending":true}`},
		{"sign_in_token_id", Line{Seq: 1, Key: "sit_1", Line: 2, ID: "sit_1", Status: "revoked"},
			`{"seq":1,"sign_in_token_id":"sit_1","line":2,"id":"sit_1","status":"revoked"}`},
		{"user_id", Line{Seq: 1, Key: "u", Line: 1, Error: &ErrorInfo{Kind: "clerk", Message: "m", StatusCode: 404}},
			`{"seq":1,"user_id":"u","line":1,"error":{"kind":"clerk","message":"m","status":404}}`},
	}
	for _, tt := range tests {
		c := newCodec(tt.key)
		b, err := c.marshal(&tt.line)
		require.NoError(t, err)
		assert.Equal(t, tt.want, string(b))
		back, err := c.unmarshal(b)
		require.NoError(t, err)
		assert.Equal(t, tt.line, back)
	}
}

// fsyncs records the syncs Open makes, with the journal's size at each.
type fsyncs struct{ events []string }

func (s *fsyncs) syncer() fileSyncer {
	return fileSyncer{
		data: func(f *os.File) error {
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			s.events = append(s.events, fmt.Sprintf("data %d", fi.Size()))
			return syncData(f)
		},
		dir: func(path string) error {
			s.events = append(s.events, "dir "+filepath.Base(filepath.Dir(path)))
			return syncDir(path)
		},
	}
}

// A new journal's header is on disk, and so is the journal's entry in its
// directory, before Open returns: a power loss after it loses neither.
func TestOpen_newJournalDurable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var s fsyncs
	f, p, err := s.syncer().open(filepath.Join(dir, "j"), nil, createHeader)
	require.NoError(t, err)
	defer f.Close()
	header := `{"journal":"signintokens","version":1,"kind":"create"}` + "\n"
	assert.Equal(t, []string{fmt.Sprintf("data %d", len(header)), "dir " + filepath.Base(dir)}, s.events)
	assert.Equal(t, 0, p.Done.Len())
	b, err := os.ReadFile(filepath.Join(dir, "j"))
	require.NoError(t, err)
	assert.Equal(t, header, string(b))
}

// An existing journal: a cut last line is removed, this run's header
// appended after the lines whole, and synced, before Open returns; what
// the lines say is read.
func TestOpen_existingJournal(t *testing.T) {
	t.Parallel()
	header := `{"journal":"signintokens","version":1,"kind":"create"}` + "\n"
	whole := header + `{"user_id":"u1","seq":1,"line":1,"sending":true}` + "\n" +
		`{"user_id":"u1","seq":2,"line":1,"id":"sit_1","status":"pending"}` + "\n" +
		`{"user_id":"u2","seq":3,"line":2,"sending":true}` + "\n"
	path := filepath.Join(t.TempDir(), "j")
	require.NoError(t, os.WriteFile(path, []byte(whole+`{"user_id":"u3","seq":4,"li`), 0o600))
	var s fsyncs
	f, p, err := s.syncer().open(path, nil, createHeader)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{fmt.Sprintf("data %d", len(whole)+len(header))}, s.events)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, whole+header, string(b))
	v, done := p.Done.Get("u1")
	assert.True(t, done)
	assert.Equal(t, uint32(DoneBit), v)
	assert.Equal(t, map[string]int{"u2": 2}, p.Uncertain)
}

// Open refuses what it cannot resume from, and sends the run nothing to
// act on: an emptied journal, one another process holds, and the files
// that are not this kind's journal.
func TestOpen_refuses(t *testing.T) {
	t.Parallel()
	header := `{"journal":"signintokens","version":1,"kind":"create"}` + "\n"
	tests := []struct {
		name, content, want string
	}{
		{"emptied", "", "exists and is empty"},
		{"a seq missing", header + `{"user_id":"u1","seq":2,"line":1}` + "\n", "lines before it are missing"},
		{"another kind", `{"journal":"signintokens","version":1,"kind":"revoke"}` + "\n", "a revoke journal"},
		{"another version", `{"journal":"signintokens","version":2,"kind":"create"}` + "\n", "version 2"},
		{"an unknown header field", `{"journal":"signintokens","version":1,"kind":"create","x":1}` + "\n", "does not know"},
		{"other options", `{"journal":"signintokens","version":1,"kind":"create","org_id":"org_1"}` + "\n", "other options"},
		{"a line without its key", header + `{"seq":1,"line":1}` + "\n", "line 2 is not a create journal line"},
		{"a JSON array", `[{"journal":"signintokens"}]` + "\n", "JSON array"},
		{"text", "user_1\n", "not a journal"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "j")
		require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o600))
		f, _, err := Open(path, nil, createHeader)
		if !assert.Error(t, err, tt.name) {
			f.Close()
			continue
		}
		assert.Contains(t, err.Error(), tt.want, tt.name)
		b, _ := os.ReadFile(path)
		assert.Equal(t, tt.content, string(b), "%s: the file is left as it was", tt.name)
	}
}

// A journal open in one run is refused to a second, even in one process.
func TestOpen_locked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "j")
	f, _, err := Open(path, nil, createHeader)
	require.NoError(t, err)
	defer f.Close()
	_, _, err = Open(path, nil, createHeader)
	assert.True(t, errors.Is(err, ErrLocked), "%v", err)
	_, _, err = OpenResumed(path, nil, createHeader)
	assert.True(t, errors.Is(err, ErrLocked), "%v", err)
}

// A copy with CRLF line ends, and headers of later runs, read as the
// journal itself.
func TestReadPrior_crlfAndLaterRuns(t *testing.T) {
	t.Parallel()
	header := `{"journal":"signintokens","version":1,"kind":"create"}`
	in := strings.Join([]string{header, `{"user_id":"u1","seq":1,"line":1,"sending":true}`, header,
		`{"user_id":"u1","seq":1,"line":1,"id":"sit_1"}`, `{"user_id":"u2","seq":2,"line":2,"uncertain":true,"error":{"kind":"api","message":"x"}}`}, "\r\n") + "\r\n"
	p, complete, err := ReadPrior(strings.NewReader(in), createHeader)
	require.NoError(t, err)
	assert.Equal(t, int64(len(in)), complete)
	_, done := p.Done.Get("u1")
	assert.True(t, done)
	assert.Equal(t, map[string]int{"u2": 2}, p.Uncertain)
}

// A run's record: stdout gets the header before any call, and is locked
// when it is a file, so that no run resumes from it while it is written;
// a run recorded nowhere is refused, and so is a journal that is stdout.
func TestOpenRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "out"))
	require.NoError(t, err)
	defer stdout.Close()
	rec, err := OpenRecord(filepath.Join(dir, "j"), "", stdout, createHeader)
	require.NoError(t, err)
	defer rec.Close()
	require.Len(t, rec.Sinks, 2)
	assert.NotNil(t, rec.Sinks[1].Sync, "stdout on a file is synced")
	b, err := os.ReadFile(stdout.Name())
	require.NoError(t, err)
	assert.Equal(t, `{"journal":"signintokens","version":1,"kind":"create"}`+"\n", string(b))
	_, err = OpenRecord("", stdout.Name(), io.Discard, createHeader)
	assert.ErrorIs(t, err, ErrLocked, "the output of a run still writing")

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	_, err = OpenRecord("", "", null, createHeader)
	var se *SourceError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "stdout", se.Path)
	assert.ErrorIs(t, err, ErrNowhere)

	_, err = OpenRecord(stdout.Name(), "", stdout, createHeader)
	assert.ErrorIs(t, err, ErrIsStdout, "--journal out > out")
	_, err = OpenRecord("", "", failingWriter{}, createHeader)
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Write)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// stdout closing (a write failing with EPIPE) stops the run, but the
// journal still gets every line after it: the outcomes of the calls in
// flight then. Those with a credential, which stdout lacks, are kept.
func TestWriter_failedSinkLeavesTheOthers(t *testing.T) {
	t.Parallel()
	journal, stdout := &recorder{}, &closingWriter{writes: 1}
	stops := 0
	w := NewWriter(createHeader, func() { stops++ }, journal.sink(), Sink{W: stdout})
	require.NoError(t, w.Write(&Line{Key: "user_1", Line: 1, ID: "sit_1"}))
	assert.ErrorIs(t, w.Write(&Line{Key: "user_2", Line: 2, ID: "sit_2"}), syscall.EPIPE)
	assert.ErrorIs(t, w.Write(&Line{Key: "user_3", Line: 3, Sending: true}), syscall.EPIPE)
	assert.ErrorIs(t, w.Write(&Line{Key: "user_3", Line: 3, ID: "sit_3"}), syscall.EPIPE)
	assert.ErrorIs(t, w.Durable(), syscall.EPIPE, "the first failure")
	assert.Equal(t, 1, stops)
	assert.Equal(t, 2, stdout.tries, "one line written, one failed, nothing tried after")
	var ids []string
	for _, e := range journal.events {
		if strings.Contains(e, `"id":"`) {
			ids = append(ids, e[strings.Index(e, `"id":"`)+6:][:5])
		}
	}
	assert.Equal(t, []string{"sit_1", "sit_2", "sit_3"}, ids, "the journal has every line")
	assert.True(t, journal.syncedAfter(`{"seq":3,"user_id":"user_3","line":3,"sending":true}`), "the intent is synced")
	lost, _ := w.Failure()
	assert.Equal(t, []Line{{Key: "user_2", ID: "sit_2"}, {Key: "user_3", ID: "sit_3"}}, lost, "what stdout lacks")
}

// closingWriter takes writes, then fails every one with EPIPE, as a pipe
// whose reader left.
type closingWriter struct{ writes, tries int }

func (c *closingWriter) Write(p []byte) (int, error) {
	c.tries++
	if c.tries > c.writes {
		return 0, syscall.EPIPE
	}
	return len(p), nil
}
