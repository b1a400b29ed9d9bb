package main

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"io"
	"os"
	"sync"
)

// journalLine is one line of a bulk run's output. Every line names its
// input ID and the input line it is on. A create writes a line with Sending
// set just before its request goes out, and its outcome once known; a run
// killed in between leaves the first without the second.
type journalLine struct {
	// Seq numbers the lines after each header from 1, so that a reader
	// knows when lines were taken out (a filtered copy).
	Seq           uint64 `json:"seq"`
	UserID        string `json:"user_id,omitempty"`
	SignInTokenID string `json:"sign_in_token_id,omitempty"`
	Line          int    `json:"line"`
	// Sending says a create for this ID is about to be sent.
	Sending bool   `json:"sending,omitempty"`
	ID      string `json:"id,omitempty"`
	Status  string `json:"status,omitempty"`
	URL     string `json:"url,omitempty"`
	// DuplicateOf is the line where the same ID came first: this one was
	// not sent.
	DuplicateOf int        `json:"duplicate_of,omitempty"`
	Error       *errorInfo `json:"error,omitempty"`
	// Uncertain says a failed create may have made a token all the same
	// (a 5xx, a timeout, a connection lost after sending).
	Uncertain bool `json:"uncertain,omitempty"`
	// Skipped and HeldBack carry an earlier run's outcome into this run's
	// output (with --resume OUT): done then, or held back as uncertain, so
	// that a run resumed from this output knows them too.
	Skipped  bool `json:"skipped,omitempty"`
	HeldBack bool `json:"held_back,omitempty"`
	// AlreadyRevoked says a revoke answered "cannot be revoked" for a token
	// that this run or its journal had already sent a revoke for: done.
	AlreadyRevoked bool `json:"already_revoked,omitempty"`
}

func (l *journalLine) setKey(column, id string) {
	if column == "user_id" {
		l.UserID = id
	} else {
		l.SignInTokenID = id
	}
}

func (l *journalLine) key(column string) string {
	if column == "user_id" {
		return l.UserID
	}
	return l.SignInTokenID
}

// journal writes a run's lines to its sinks (the --journal file, stdout):
// each line in one write per sink, nothing buffered in the process, so that
// however the process ends, every line it finished is in the output. A
// line that says a create is about to be sent is on disk in every sink that
// is a file before write returns. After a failed write or sync it writes
// nothing more, stops the run, and keeps the tokens whose lines were lost,
// to be listed on stderr.
type journal struct {
	sinks []sink
	stop  context.CancelFunc // called once, at the first failure

	mu   sync.Mutex
	seq  uint64
	err  error
	lost []journalLine // outcomes with a token that could not be written
}

// sink is one place a run's lines go; sync is nil unless it is a file.
type sink struct {
	w    io.Writer
	sync *syncer
}

// newSink is a sink for w, synced when w is a regular file.
func newSink(w io.Writer) sink {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return sink{w: f, sync: newSyncer(f)}
		}
	}
	return sink{w: w}
}

// write writes one line, numbered, or returns the error that stopped the
// output.
func (j *journal) write(l *journalLine) error {
	written := make([]uint64, len(j.sinks))
	j.mu.Lock()
	j.seq++
	l.Seq = j.seq
	b, err := json.Marshal(l)
	if err != nil {
		j.mu.Unlock()
		return err
	}
	b = append(b, '\n')
	if j.err == nil {
		for i, s := range j.sinks {
			if _, err := s.w.Write(b); err != nil {
				j.failLocked(err)
				break
			}
			if s.sync != nil {
				written[i] = s.sync.wrote()
			}
		}
	}
	j.mu.Unlock()
	if l.Sending {
		for i, s := range j.sinks {
			if s.sync != nil && written[i] > 0 {
				if err := s.sync.wait(written[i]); err != nil {
					j.fail(err)
				}
			}
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil && l.ID != "" {
		j.lost = append(j.lost, journalLine{UserID: l.UserID, SignInTokenID: l.SignInTokenID, ID: l.ID})
	}
	return j.err
}

func (j *journal) fail(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failLocked(err)
}

func (j *journal) failLocked(err error) {
	if j.err == nil {
		j.err = err
		j.stop()
	}
}

// close makes every line written so far durable.
func (j *journal) close() { _ = j.durable() }

// durable makes every line written so far durable, or returns the error
// that stopped the output.
func (j *journal) durable() error {
	for _, s := range j.sinks {
		if s.sync != nil {
			if err := s.sync.all(); err != nil {
				j.fail(err)
			}
		}
	}
	_, err := j.failure()
	return err
}

// failure returns the tokens whose lines were lost and the first failed
// write or sync.
func (j *journal) failure() ([]journalLine, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lost, j.err
}

// prior is what a previous run's output says of its IDs.
type prior struct {
	done *idSet // IDs with a success line
	// uncertain are the IDs whose call was sent with no outcome line (the
	// run ended while it was in flight) or whose failure is marked
	// uncertain, with their input line: a create of them may have made a
	// token, and a revoke of them may have revoked it.
	uncertain map[string]int
}

// note takes one line into account; later lines win.
func (p prior) note(column string, l *journalLine) {
	id := l.key(column)
	switch {
	case l.Sending || l.Uncertain || l.HeldBack:
		p.uncertain[id] = l.Line
	case l.Error != nil:
		delete(p.uncertain, id)
	case l.ID != "" || l.Skipped:
		p.done.add(id, l.Line)
		delete(p.uncertain, id)
	}
}

// idSet is a set of IDs kept as 64-bit hashes, with the line each came on
// first, in one flat open-addressing table: 12 bytes a slot and no
// pointers, so that a million IDs take about 24 MB and cost the collector
// nothing to scan. Two IDs whose hashes collide count as one (the odds, at
// a million IDs, are about 1 in 30 million); the duplicate line names the
// line of the first, so it can be checked.
type idSet struct {
	seed  maphash.Seed
	keys  []uint64 // 0: an empty slot
	lines []uint32
	n     int
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed()} }

// add adds id, first seen on line, and returns the line it was first seen
// on if it was already there.
func (s *idSet) add(id string, line int) (first int, dup bool) {
	if (s.n+1)*4 > len(s.keys)*3 {
		s.grow()
	}
	h := s.hash(id)
	i := s.slot(h)
	if s.keys[i] == h {
		return int(s.lines[i]), true
	}
	s.keys[i], s.lines[i] = h, uint32(min(line, 1<<32-1))
	s.n++
	return 0, false
}

func (s *idSet) has(id string) bool {
	if s.n == 0 {
		return false
	}
	h := s.hash(id)
	return s.keys[s.slot(h)] == h
}

// hash is never 0, which marks an empty slot.
func (s *idSet) hash(id string) uint64 { return max(maphash.String(s.seed, id), 1) }

// slot is where h is, or the empty slot where it would go.
func (s *idSet) slot(h uint64) int {
	mask := len(s.keys) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		if s.keys[i] == h || s.keys[i] == 0 {
			return i
		}
	}
}

// grow doubles the table (it starts at 1,024 slots) and moves every hash.
func (s *idSet) grow() {
	keys, lines := s.keys, s.lines
	size := max(2*len(keys), 1024)
	s.keys, s.lines = make([]uint64, size), make([]uint32, size)
	for i, h := range keys {
		if h != 0 {
			j := s.slot(h)
			s.keys[j], s.lines[j] = h, lines[i]
		}
	}
}
