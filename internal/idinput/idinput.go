// Package idinput reads the IDs of a bulk run's input: one per line, a
// CSV with a header naming the column, or a journal whose made IDs are the
// input's (a create journal, for revoke).
package idinput

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/clerkgo/signintokens/internal/journal"
)

// utf8BOM starts text saved as "UTF-8 with BOM" (Excel's "CSV UTF-8",
// Windows Notepad). It is not part of the first ID or column name.
var utf8BOM = []byte("\ufeff")

// ID is one ID of the input and the line it is on (from 1).
type ID struct {
	// ID is the ID, without the spaces around it.
	ID string
	// Line is the input's line it is on, from 1.
	Line int
}

// Reader streams IDs from a file of one ID per line (blank lines and #
// comments skipped), from a CSV file with a header naming the column
// (separated by commas, or by semicolons or tabs as Excel saves it in many
// locales), or, for revoke, from a create journal (the id of each token it
// made).
type Reader struct {
	lines       *bufio.Reader
	line        int // lines read from lines
	csv         *csv.Reader
	offset      int // lines read before the CSV header
	col         int
	column      string
	journalKind string // the kind of journal read as input; "": none
	journal     bool   // lines are a journal's
}

// utf16BOMs start UTF-16 text (Excel's "Unicode text"), little and big
// endian.
var utf16BOMs = [][]byte{{0xff, 0xfe}, {0xfe, 0xff}}

// New reads the IDs of r: a CSV's column named column, or a journal of
// journalKind's made IDs ("" if none is read).
func New(r io.Reader, column, journalKind string) (*Reader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	if b, err := br.Peek(2); err == nil && slices.ContainsFunc(utf16BOMs, func(bom []byte) bool { return bytes.Equal(b, bom) }) {
		return nil, errors.New("it is UTF-16 text (Excel's \"Unicode text\"): save it as UTF-8 (\"CSV UTF-8\")")
	}
	in := &Reader{lines: br, column: column, journalKind: journalKind}
	first, err := in.nextLine()
	if errors.Is(err, io.EOF) {
		return in, nil
	}
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(first.ID, "{") {
		return in, in.startJournal(first.ID)
	}
	sep, ok := separator(first.ID)
	if !ok && first.ID != column {
		in.lines = bufio.NewReader(io.MultiReader(strings.NewReader(first.ID+"\n"), in.lines))
		in.line--
		return in, nil
	}
	return in, in.startCSV(first, sep)
}

// separator is the CSV separator a header line uses, if any.
func separator(header string) (rune, bool) {
	for _, sep := range []rune{',', ';', '\t'} {
		if strings.ContainsRune(header, sep) {
			return sep, true
		}
	}
	return ',', false
}

// startCSV reads the header, first, of a CSV separated by sep.
func (in *Reader) startCSV(first ID, sep rune) error {
	in.offset = first.Line - 1
	in.csv = csv.NewReader(io.MultiReader(strings.NewReader(first.ID+"\n"), in.lines))
	in.csv.Comma, in.csv.Comment, in.csv.FieldsPerRecord, in.csv.ReuseRecord = sep, '#', -1, true
	header, err := in.csv.Read()
	if err != nil {
		return fmt.Errorf("reading the CSV header: %w", err)
	}
	if in.col = slices.Index(header, in.column); in.col >= 0 {
		return nil
	}
	if sep != ',' {
		return fmt.Errorf("its first line is separated by %q and has no %s column: give one ID per line, "+
			"or a CSV whose header names a %s column", sep, in.column, in.column)
	}
	return fmt.Errorf("the CSV header has no %s column", in.column)
}

// startJournal takes the input as a journal, whose header is first: a
// create journal gives revoke the tokens it made.
func (in *Reader) startJournal(first string) error {
	var h journal.Header
	if err := json.Unmarshal([]byte(first), &h); err != nil || h.Journal != journal.Magic {
		return errors.New("its first line is JSON but not a signintokens journal line")
	}
	if in.journalKind == "" || h.Kind != in.journalKind {
		return fmt.Errorf("it is a %s journal: give it to --journal to resume that run; "+
			"only revoke --from reads a journal (a create journal's tokens)", h.Kind)
	}
	in.journal = true
	return nil
}

// Next returns the next ID, or io.EOF.
func (in *Reader) Next() (ID, error) {
	switch {
	case in.journal:
		return in.nextToken()
	case in.csv == nil:
		return in.nextLine()
	}
	for {
		rec, err := in.csv.Read()
		if err != nil {
			return ID{}, err
		}
		if in.col < len(rec) {
			if id := strings.TrimSpace(rec[in.col]); id != "" {
				line, _ := in.csv.FieldPos(in.col)
				return ID{id, in.offset + line}, noNUL(id, in.offset+line)
			}
		}
	}
}

// nextLine returns the next line that is neither blank nor a comment,
// whatever its length.
func (in *Reader) nextLine() (ID, error) {
	for {
		line, err := in.lines.ReadString('\n')
		if line != "" {
			in.line++
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return ID{line, in.line}, noNUL(line, in.line)
		}
		if err != nil {
			return ID{}, err
		}
	}
}

// nextToken returns the ID of the next credential a journal's run made. A last
// line without its newline that does not parse was cut, and is passed over.
func (in *Reader) nextToken() (ID, error) {
	for {
		line, err := in.lines.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return ID{}, err
		}
		in.line++
		var l journal.Line
		if json.Unmarshal(line, &l) != nil {
			if err != nil {
				return ID{}, io.EOF
			}
			return ID{}, fmt.Errorf("line %d is not a %s journal line", in.line, in.journalKind)
		}
		if l.ID != "" && l.Error == nil && !l.Sending {
			return ID{l.ID, in.line}, nil
		}
	}
}

// noNUL refuses an ID with a NUL byte: the input is not text (UTF-16 without
// its byte order mark, or binary).
func noNUL(id string, line int) error {
	if strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("line %d holds a NUL byte: is it UTF-16? save the input as UTF-8", line)
	}
	return nil
}

// Count reads a whole --from file before any call: it counts its IDs,
// for the progress line and the summary's count of IDs not started, and
// returns what makes it unreadable (a CSV error, a NUL byte), so that the
// run refuses it having sent nothing. It is -1 when the input is not a
// regular file, which cannot be read twice.
func Count(path, column, journalKind string) (int, error) {
	if path == "-" {
		return -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return -1, nil
	}
	in, err := New(f, column, journalKind)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := in.Next()
		switch {
		case errors.Is(err, io.EOF):
			return n, nil
		case err != nil:
			return 0, err
		}
		n++
	}
}
