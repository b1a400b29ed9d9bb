package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Record is what a run records to, and what it resumes from.
type Record struct {
	// Sinks are where the run's lines go: its journal, then stdout.
	Sinks []Sink
	// Prior is what the journal, or the record resumed, says of earlier
	// runs.
	Prior Prior
	// File is the file the run records to (its journal, or stdout when
	// it is a file); nil if none.
	File *os.File
	// Resumed is the earlier run's record the run resumes from, whose
	// settled lines it carries (see CarrySettled); nil if none.
	Resumed *os.File
	closers []*os.File
}

// ErrNowhere is a run whose stdout is /dev/null, or closed, with no
// journal: it would be recorded nowhere.
var ErrNowhere = errors.New("it is /dev/null or closed, and there is no journal: the run would be recorded nowhere")

// SourceError is a file a run cannot record to or resume from; the run
// sends nothing.
type SourceError struct {
	// Path is the file's path, or "stdout".
	Path string
	// Write says a write to it failed; otherwise the file was refused.
	Write bool
	// Err says why.
	Err error
}

// Error is the path and why.
func (e *SourceError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap is Err.
func (e *SourceError) Unwrap() error { return e.Err }

// OpenRecord opens what a run of h records to: the journal at
// journalPath, if not "" (see Open), and stdout, locked when it is a file
// and given h first, so that an output that cannot be written is found
// before any call; and what it resumes from: the journal, or the earlier
// run's record at resumePath (see OpenResumed). A run recorded nowhere
// (stdout is /dev/null, or closed, and there is no journal) is refused.
func OpenRecord(journalPath, resumePath string, stdout io.Writer, h Header) (*Record, error) {
	rec := &Record{Prior: NewPrior()}
	fail := func(path string, write bool, err error) (*Record, error) {
		rec.Close()
		return nil, &SourceError{Path: path, Write: write, Err: err}
	}
	switch {
	case journalPath != "":
		f, p, err := Open(journalPath, stdout, h)
		if err != nil {
			return fail(journalPath, false, err)
		}
		rec.Prior, rec.File, rec.closers = p, f, append(rec.closers, f)
		rec.Sinks = append(rec.Sinks, FileSink(f))
	case resumePath != "":
		f, p, err := OpenResumed(resumePath, stdout, h)
		if err != nil {
			return fail(resumePath, false, err)
		}
		rec.Prior, rec.Resumed, rec.closers = p, f, append(rec.closers, f)
	}
	if len(rec.Sinks) == 0 && isDevNull(stdout) {
		return fail("stdout", false, ErrNowhere)
	}
	out := OutputSink(stdout)
	if out.Sync != nil {
		// A file: locked for the run, so that no run resumes from an
		// output still being written.
		f := stdout.(*os.File)
		if err := Lock(f); err != nil {
			return fail("stdout", false, err)
		}
		if rec.File == nil {
			rec.File = f
		}
	}
	if err := WriteHeader(stdout, h); err != nil {
		return fail("stdout", true, fmt.Errorf("cannot write to it: %w", err))
	}
	rec.Sinks = append(rec.Sinks, out)
	return rec, nil
}

// Close closes the files the record opened (not stdout).
func (r *Record) Close() {
	for _, f := range r.closers {
		f.Close()
	}
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
