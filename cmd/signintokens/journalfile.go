package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// journalMagic and journalVersion name the format in a journal's first line.
const (
	journalMagic   = "signintokens"
	journalVersion = 1
)

// journalHeader is the first line of every journal, and of a bulk run's
// stdout: what wrote the lines below it, so that a reader refuses a file it
// does not recognise, and a resumed run one made with other options.
type journalHeader struct {
	Journal string `json:"journal"`
	Version int    `json:"version"`
	// Kind is the command: create or revoke.
	Kind string `json:"kind"`
	// OrgID and ExpiresInSeconds are a create's options, which every token
	// of the run shares.
	OrgID            string `json:"org_id,omitempty"`
	ExpiresInSeconds int64  `json:"expires_in_seconds,omitempty"`
}

// errIsStdout is a journal or --resume file that is this run's stdout.
var errIsStdout = &badJournal{"it is this run's stdout (a > empties it before the run starts, a >> mixes two runs " +
	"into it): write the new run's output elsewhere"}

// isStdout reports whether the file fi describes is stdout.
func isStdout(fi os.FileInfo, stdout io.Writer) bool {
	out, ok := stdout.(*os.File)
	if !ok {
		return false
	}
	ofi, err := out.Stat()
	return err == nil && os.SameFile(fi, ofi)
}

// syncDir makes the entry of a file just created in its directory durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// errLocked is another process holding a journal's lock.
var errLocked = errors.New("another run is using it (it is locked)")

// errEmptyJournal is a --resume file with nothing in it.
var errEmptyJournal = errors.New("it is empty: if it is the output of the run to resume, a shell's > emptied it " +
	"before this command started; resuming from it would create every user again")

// badJournal is a file that is not a journal this run can resume from; the
// command exits 2 and sends nothing.
type badJournal struct{ why string }

func (e *badJournal) Error() string { return e.why }

// readPrior reads a journal, header first, and what its lines say of their
// IDs. A last line without its newline is a write that was cut (a kill, a
// full disk): it is passed over, and complete is where it starts. Any other
// line that is not a journal line refuses the file.
func readPrior(r io.Reader, want journalHeader, column string) (p prior, complete int64, err error) {
	p = prior{done: newIDSet(), uncertain: map[string]int{}}
	br := bufio.NewReader(r)
	var seq uint64 // of the last line since a header
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if n == 1 && len(b) == 0 {
				return p, 0, errEmptyJournal
			}
			if n == 1 {
				return p, 0, &badJournal{"its only line is cut short: it is not a journal"}
			}
			return p, complete, nil // a cut last line, or none
		}
		if err != nil {
			return p, complete, err
		}
		switch {
		case n == 1:
			if err := checkHeader(b, want); err != nil {
				return p, 0, err
			}
		case isHeader(b):
			// A header again: the next run on this journal, or journals
			// of one run concatenated. It must be the same one (read, not
			// compared byte for byte: a copy may have CRLF line ends), and
			// its lines count from 1.
			if err := checkHeader(b, want); err != nil {
				return p, complete, &badJournal{fmt.Sprintf("line %d: %v", n, err)}
			}
			seq = 0
		default:
			var l journalLine
			if err := json.Unmarshal(b, &l); err != nil || l.key(column) == "" {
				return p, complete, &badJournal{fmt.Sprintf("line %d is not a %s journal line", n, want.Kind)}
			}
			if l.Seq != seq+1 {
				return p, complete, &badJournal{fmt.Sprintf("line %d: lines before it are missing (seq %d after %d): "+
					"is it a filtered or sorted copy? give the journal itself", n, l.Seq, seq)}
			}
			seq = l.Seq
			p.note(column, &l)
		}
		complete += int64(len(b))
	}
}

// isHeader reports whether a line is a journal header: an object with a
// "journal" field (a journal line has none).
func isHeader(line []byte) bool {
	var probe struct {
		Journal *string `json:"journal"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Journal != nil
}

// checkHeader refuses a line that is not want's header, or that has a field
// this version does not know: a header it cannot read whole is refused
// from the first run on, never accepted once and refused later.
func checkHeader(line []byte, want journalHeader) error {
	var h journalHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	switch trimmed := bytes.TrimSpace(line); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return &badJournal{"it is a JSON array (such as jq -s output), not the journal: give the journal itself"}
	case json.Unmarshal(line, &h) != nil || h.Journal != journalMagic:
		return &badJournal{"its first line is not a signintokens journal line: it is not a journal"}
	case h.Version != journalVersion:
		return &badJournal{fmt.Sprintf("it is a journal of version %d; this signintokens reads version %d", h.Version, journalVersion)}
	case dec.Decode(new(journalHeader)) != nil:
		return &badJournal{"its header has a field this signintokens does not know: it was written by another " +
			"version, or edited"}
	case h.Kind != want.Kind:
		return &badJournal{fmt.Sprintf("it is a %s journal, not a %s one", h.Kind, want.Kind)}
	case h != want:
		return &badJournal{fmt.Sprintf("it was written with other options (%s): run with the same --org-id and --expires-in", h.options())}
	}
	return nil
}

// options describes a header's create options.
func (h journalHeader) options() string {
	org, exp := h.OrgID, "the default expiry"
	if org == "" {
		org = "no organization"
	}
	if h.ExpiresInSeconds != 0 {
		exp = fmt.Sprintf("expires in %d s", h.ExpiresInSeconds)
	}
	return org + ", " + exp
}

// openJournal opens the run's own journal for appending, locked for the
// run: a new one gets its header, synced, and its directory synced so that
// the file itself survives a power loss; an existing one is read to resume
// from and has a cut last line removed before anything is appended. An
// existing empty one is refused: the journal writes its header before any
// call, so an empty one was emptied (a shell's >), and its record is lost.
// It must not be this run's stdout.
func openJournal(path string, stdout io.Writer, want journalHeader, column string) (*os.File, prior, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	created := err == nil
	if errors.Is(err, os.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	}
	if err != nil {
		return nil, prior{}, err
	}
	p, err := startJournal(f, stdout, want, column, created)
	if err != nil {
		f.Close()
		return nil, prior{}, err
	}
	return f, p, nil
}

func startJournal(f *os.File, stdout io.Writer, want journalHeader, column string, created bool) (prior, error) {
	fi, err := f.Stat()
	if err != nil {
		return prior{}, err
	}
	if isStdout(fi, stdout) {
		return prior{}, errIsStdout
	}
	if err := lockFile(f); err != nil {
		return prior{}, err
	}
	switch {
	case fi.Size() == 0 && !created:
		return prior{}, &badJournal{"it exists and is empty: the journal is written before any call, so something " +
			"emptied it (a shell's > on it?), and with it the record of the runs it held; resuming from it would create " +
			"every user again. If no run ever wrote to it, delete it and run again"}
	case fi.Size() == 0:
		if err := writeHeader(f, want); err != nil {
			return prior{}, err
		}
		if err := syncData(f); err != nil {
			return prior{}, err
		}
		return prior{done: newIDSet(), uncertain: map[string]int{}}, syncDir(f.Name())
	}
	p, complete, err := readPrior(io.NewSectionReader(f, 0, fi.Size()), want, column)
	if err != nil {
		return prior{}, err
	}
	if complete < fi.Size() {
		if err := f.Truncate(complete); err != nil {
			return prior{}, fmt.Errorf("removing its cut last line: %w", err)
		}
	}
	// This run's lines follow a header of their own, and count from 1.
	if err := writeHeader(f, want); err != nil {
		return prior{}, err
	}
	return p, syncData(f)
}

// openResume opens a --resume file, an earlier run's stdout, and holds its
// lock for the run, so that two runs cannot resume from it at once. It must
// not be this run's stdout (a >> into the file being resumed).
func openResume(path string, stdout io.Writer, want journalHeader, column string) (*os.File, prior, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, prior{}, err
	}
	fail := func(err error) (*os.File, prior, error) { f.Close(); return nil, prior{}, err }
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if isStdout(fi, stdout) {
		return fail(errIsStdout)
	}
	if err := lockFile(f); err != nil {
		return fail(err)
	}
	p, _, err := readPrior(f, want, column)
	if err != nil {
		return fail(err)
	}
	return f, p, nil
}

// carrySettled writes a line for every ID the resumed run's record settled
// (a success, with its token's ID, and, for a create, a held-back
// uncertain ID), and makes them durable before this run sends anything: a
// run stopped at any point then leaves a whole record, which a resume or a
// revoke --from reads as it would the first. A cut last line is passed
// over, as readPrior does.
func carrySettled(f *os.File, j *journal, job bulkJob, p prior) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReader(f)
	for {
		b, err := br.ReadBytes('\n')
		if err != nil {
			break
		}
		var l journalLine
		if json.Unmarshal(b, &l) != nil || l.key(job.column) == "" || (l.ID == "" && !l.Skipped) {
			continue // a header, or an ID not settled on this line
		}
		c := journalLine{Line: l.Line, ID: l.ID, Status: l.Status, Skipped: true}
		c.setKey(job.column, l.key(job.column))
		if err := j.write(&c); err != nil {
			return err
		}
	}
	for id, line := range p.uncertain {
		if !job.creates {
			break // a revoke of it is sent again, and gets its own line
		}
		c := journalLine{Line: line, HeldBack: true}
		c.setKey(job.column, id)
		if err := j.write(&c); err != nil {
			return err
		}
	}
	return j.durable()
}

// syncer makes a file's writes durable in groups: a writer that needs its
// line on disk waits for a sync that began after its write, and one sync
// serves every writer waiting then, so that syncing costs a run its rate
// only when the disk is slower than the run.
type syncer struct {
	f *os.File

	mu      sync.Mutex
	changed sync.Cond
	written uint64 // writes so far, counted by wrote
	synced  uint64 // writes a finished sync covers
	syncing bool
	err     error
}

func newSyncer(f *os.File) *syncer {
	s := &syncer{f: f}
	s.changed.L = &s.mu
	return s
}

// wrote counts a write that has returned and gives its number.
func (s *syncer) wrote() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written++
	return s.written
}

// wait returns once write n is on disk, syncing if no sync under way will
// cover it, or returns the error of the sync that failed.
func (s *syncer) wait(n uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.synced < n && s.err == nil {
		if s.syncing {
			s.changed.Wait()
			continue
		}
		s.syncing = true
		upTo := s.written
		s.mu.Unlock()
		err := syncData(s.f)
		s.mu.Lock()
		s.syncing = false
		if err != nil {
			s.err = err
		} else {
			s.synced = max(s.synced, upTo)
		}
		s.changed.Broadcast()
	}
	return s.err
}

// all waits until every write so far is on disk.
func (s *syncer) all() error {
	s.mu.Lock()
	n := s.written
	s.mu.Unlock()
	return s.wait(n)
}
