package journal

import (
	"io"
	"os"
	"sync"
)

// Writer writes a run's lines to its sinks (the journal file, stdout):
// each line in one write per sink, nothing buffered in the process, so that
// however the process ends, every line it finished is in the output. A
// line that says a call is about to be sent is durable in every sink that
// syncs before Write returns. A sink whose write or sync fails gets nothing
// more, and the first failure calls stop; the other sinks still get every
// line, so that the calls in flight when stdout closed are in the journal.
// The lines with an ID (a credential made) written after a failure, which
// the failed sink lacks, are kept, to be listed by the caller.
type Writer struct {
	codec codec
	sinks []sink
	stop  func()

	mu   sync.Mutex
	seq  uint64
	err  error
	lost []Line
}

// Sink is one place a run's lines go. Sync, if not nil, makes what was
// written durable.
type Sink struct {
	// W takes each line in one write.
	W io.Writer
	// Sync, if not nil, makes every line written durable.
	Sync func() error
}

// FileSink is a sink for f, made durable with fdatasync(2).
func FileSink(f *os.File) Sink { return Sink{W: f, Sync: func() error { return syncData(f) }} }

// OutputSink is a sink for w (stdout), synced when w is a regular file.
func OutputSink(w io.Writer) Sink {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return FileSink(f)
		}
	}
	return Sink{W: w}
}

type sink struct {
	w      io.Writer
	sync   *syncer // nil: not synced
	failed bool    // a write or sync failed: it gets nothing more (under Writer.mu)
}

// NewWriter writes lines keyed by h.Key to sinks; stop is called once, at
// the first failed write or sync.
func NewWriter(h Header, stop func(), sinks ...Sink) *Writer {
	w := &Writer{codec: newCodec(h.Key), stop: stop}
	for _, s := range sinks {
		in := sink{w: s.W}
		if s.Sync != nil {
			in.sync = newSyncer(s.Sync)
		}
		w.sinks = append(w.sinks, in)
	}
	return w
}

// Write numbers l and writes it, or returns the error that stopped the
// output. A line with Sending set is durable before Write returns.
func (w *Writer) Write(l *Line) error {
	written := make([]uint64, len(w.sinks))
	w.mu.Lock()
	w.seq++
	l.Seq = w.seq
	b, err := w.codec.marshal(l)
	if err != nil {
		w.mu.Unlock()
		return err
	}
	b = append(b, '\n')
	for i := range w.sinks {
		s := &w.sinks[i]
		if s.failed {
			continue
		}
		if _, err := s.w.Write(b); err != nil {
			w.failSinkLocked(i, err)
			continue
		}
		if s.sync != nil {
			written[i] = s.sync.wrote()
		}
	}
	w.mu.Unlock()
	if l.Sending {
		w.syncUpTo(written)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil && l.ID != "" {
		w.lost = append(w.lost, Line{Key: l.Key, ID: l.ID})
	}
	return w.err
}

// syncUpTo waits until write written[i] of each sink i is durable.
func (w *Writer) syncUpTo(written []uint64) {
	for i := range w.sinks {
		if sy := w.sinks[i].sync; sy != nil && written[i] > 0 { // sync is set once; failed is read under the lock
			if err := sy.wait(written[i]); err != nil {
				w.failSink(i, err)
			}
		}
	}
}

func (w *Writer) failSink(i int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failSinkLocked(i, err)
}

// failSinkLocked gives sink i nothing more, and stops the run at the
// first failure.
func (w *Writer) failSinkLocked(i int, err error) {
	w.sinks[i].failed = true
	if w.err == nil {
		w.err = err
		w.stop()
	}
}

// Durable makes every line written so far durable, or returns the error
// that stopped the output.
func (w *Writer) Durable() error {
	for i := range w.sinks {
		if sy := w.sinks[i].sync; sy != nil {
			if err := sy.all(); err != nil {
				w.failSink(i, err)
			}
		}
	}
	_, err := w.Failure()
	return err
}

// Failure returns the lines with an ID that could not be written, and the
// first failed write or sync.
func (w *Writer) Failure() ([]Line, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost, w.err
}

// syncer makes a sink's writes durable in groups: a writer that needs its
// line on disk waits for a sync that began after its write, and one sync
// serves every writer waiting then, so that syncing costs a run its rate
// only when the disk is slower than the run.
type syncer struct {
	sync func() error

	mu      sync.Mutex
	changed sync.Cond
	written uint64 // writes so far, counted by wrote
	synced  uint64 // writes a finished sync covers
	syncing bool
	err     error
}

func newSyncer(sync func() error) *syncer {
	s := &syncer{sync: sync}
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

// wait returns once write n is durable, syncing if no sync under way will
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
		err := s.sync()
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

// all waits until every write so far is durable.
func (s *syncer) all() error {
	s.mu.Lock()
	n := s.written
	s.mu.Unlock()
	return s.wait(n)
}
