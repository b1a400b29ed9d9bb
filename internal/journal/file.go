package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrLocked is another process holding a journal's lock.
var ErrLocked = errors.New("another run is using it (it is locked)")

// ErrEmpty is a record to resume from with nothing in it.
var ErrEmpty = errors.New("it is empty: if it is the output of the run to resume, a shell's > emptied it " +
	"before this command started; resuming from it would create every user again")

// ErrIsStdout is a journal or record that is this run's stdout.
var ErrIsStdout = &BadError{"it is this run's stdout (a > empties it before the run starts, a >> mixes two runs " +
	"into it): write the new run's output elsewhere"}

// BadError is a file that is not a journal a run can resume from; the
// run must send nothing.
type BadError struct{ why string }

// Error says why the file is refused.
func (e *BadError) Error() string { return e.why }

// fileSyncer is how Open makes a journal durable: fdatasync(2) on the
// file, fsync(2) on its directory. Tests record the order of both.
type fileSyncer struct {
	data func(*os.File) error
	dir  func(path string) error
}

var osSyncer = fileSyncer{data: syncData, dir: syncDir}

// Open opens the run's own journal for appending, locked for the run: a
// new one gets its header, synced, and its directory synced so that the
// file itself survives a power loss; an existing one is read to resume
// from and has a cut last line removed before this run's header is
// appended. An existing empty one is refused: a journal has its header
// before any call, so an empty one was emptied (a shell's >), and its
// record is lost. It must not be stdout.
func Open(path string, stdout io.Writer, want Header) (*os.File, Prior, error) {
	return osSyncer.open(path, stdout, want)
}

func (s fileSyncer) open(path string, stdout io.Writer, want Header) (*os.File, Prior, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	created := err == nil
	if errors.Is(err, os.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	}
	if err != nil {
		return nil, Prior{}, err
	}
	p, err := s.start(f, stdout, want, created)
	if err != nil {
		f.Close()
		return nil, Prior{}, err
	}
	return f, p, nil
}

func (s fileSyncer) start(f *os.File, stdout io.Writer, want Header, created bool) (Prior, error) {
	fi, err := lockedFile(f, stdout)
	if err != nil {
		return Prior{}, err
	}
	switch {
	case fi.Size() == 0 && !created:
		return Prior{}, &BadError{"it exists and is empty: the journal is written before any call, so something " +
			"emptied it (a shell's > on it?), and with it the record of the runs it held; resuming from it would create " +
			"every user again. If no run ever wrote to it, delete it and run again"}
	case fi.Size() == 0:
		if err := WriteHeader(f, want); err != nil {
			return Prior{}, err
		}
		if err := s.data(f); err != nil {
			return Prior{}, err
		}
		return NewPrior(), s.dir(f.Name())
	}
	p, complete, err := ReadPrior(io.NewSectionReader(f, 0, fi.Size()), want)
	if err != nil {
		return Prior{}, err
	}
	if complete < fi.Size() {
		if err := f.Truncate(complete); err != nil {
			return Prior{}, fmt.Errorf("removing its cut last line: %w", err)
		}
	}
	// This run's lines follow a header of their own, and count from 1.
	if err := WriteHeader(f, want); err != nil {
		return Prior{}, err
	}
	return p, s.data(f)
}

// lockedFile refuses f if it is stdout, and locks it for the run.
func lockedFile(f *os.File, stdout io.Writer) (os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if IsStdout(fi, stdout) {
		return nil, ErrIsStdout
	}
	return fi, Lock(f)
}

// OpenResumed opens an earlier run's record (its stdout) to resume from,
// and holds its lock for the run, so that two runs cannot resume from it
// at once, nor one from a record still being written. It must not be this
// run's stdout (a >> into the record being resumed).
func OpenResumed(path string, stdout io.Writer, want Header) (*os.File, Prior, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Prior{}, err
	}
	if _, err := lockedFile(f, stdout); err != nil {
		f.Close()
		return nil, Prior{}, err
	}
	p, _, err := ReadPrior(f, want)
	if err != nil {
		f.Close()
		return nil, Prior{}, err
	}
	return f, p, nil
}

// IsStdout reports whether the file fi describes is stdout.
func IsStdout(fi os.FileInfo, stdout io.Writer) bool {
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

// ReadPrior reads a record, header first, and what its lines say of their
// IDs. A last line without its newline is a write that was cut (a kill, a
// full disk): it is passed over, and complete is where it starts. Any other
// line that is not a line of want's kind refuses the file.
func ReadPrior(r io.Reader, want Header) (p Prior, complete int64, err error) {
	p = NewPrior()
	c := newCodec(want.Key).reader()
	br := bufio.NewReader(r)
	var seq uint64 // of the last line since a header
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		switch {
		case errors.Is(err, io.EOF) && n == 1 && len(b) == 0:
			return p, 0, ErrEmpty
		case errors.Is(err, io.EOF) && n == 1:
			return p, 0, &BadError{"its only line is cut short: it is not a journal"}
		case errors.Is(err, io.EOF):
			return p, complete, nil // a cut last line, or none
		case err != nil:
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
				return p, complete, &BadError{fmt.Sprintf("line %d: %v", n, err)}
			}
			seq = 0
		default:
			l, err := c.unmarshal(b)
			if err != nil || l.Key == "" {
				return p, complete, &BadError{fmt.Sprintf("line %d is not a %s journal line", n, want.Kind)}
			}
			if l.Seq != seq+1 {
				return p, complete, &BadError{fmt.Sprintf("line %d: lines before it are missing (seq %d after %d): "+
					"is it a filtered or sorted copy? give the journal itself", n, l.Seq, seq)}
			}
			seq = l.Seq
			if err := p.note(&l); err != nil {
				return p, complete, err
			}
		}
		complete += int64(len(b))
	}
}

// CarrySettled writes to w a line for every ID the record f settled (a
// success, with its credential's ID, and, with heldBack, each uncertain
// ID of p as held back), and makes them durable before the run sends
// anything: a run stopped at any point then leaves a whole record, which
// a resume reads as it would the first. A cut last line is passed over,
// as ReadPrior does.
func CarrySettled(f *os.File, w *Writer, want Header, p Prior, heldBack bool) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	c := newCodec(want.Key).reader()
	br := bufio.NewReader(f)
	for {
		b, err := br.ReadBytes('\n')
		if err != nil {
			break
		}
		l, err := c.unmarshal(b)
		if err != nil || l.Key == "" || (l.ID == "" && !l.Skipped) {
			continue // a header, or an ID not settled on this line
		}
		if err := w.Write(&Line{Key: l.Key, Line: l.Line, ID: l.ID, Status: l.Status, Skipped: true}); err != nil {
			return err
		}
	}
	for id, line := range p.Uncertain {
		if !heldBack {
			break
		}
		if err := w.Write(&Line{Key: id, Line: line, HeldBack: true}); err != nil {
			return err
		}
	}
	return w.Durable()
}
