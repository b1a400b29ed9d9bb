package main

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
)

// maxIDBytes is the longest ID a bulk run sends. Clerk's IDs are about 32
// bytes; a longer input ID is reported as invalid without a request.
const maxIDBytes = 256

// utf8BOM starts text saved as "UTF-8 with BOM" (Excel's "CSV UTF-8",
// Windows Notepad). It is not part of the first ID or column name.
var utf8BOM = []byte("\ufeff")

// inputID is one ID of the input and the line it is on (from 1).
type inputID struct {
	id   string
	line int
}

// idReader streams IDs from a file of one ID per line (blank lines and #
// comments skipped), from a CSV file with a header naming the column
// (separated by commas, or by semicolons or tabs as Excel saves it in many
// locales), or, for revoke, from a create journal (the id of each token it
// made).
type idReader struct {
	lines   *bufio.Reader
	line    int // lines read from lines
	csv     *csv.Reader
	offset  int // lines read before the CSV header
	col     int
	column  string
	journal bool // lines are a create journal's
}

// utf16BOMs start UTF-16 text (Excel's "Unicode text"), little and big
// endian.
var utf16BOMs = [][]byte{{0xff, 0xfe}, {0xfe, 0xff}}

func newIDReader(r io.Reader, column string) (*idReader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	if b, err := br.Peek(2); err == nil && slices.ContainsFunc(utf16BOMs, func(bom []byte) bool { return bytes.Equal(b, bom) }) {
		return nil, errors.New("it is UTF-16 text (Excel's \"Unicode text\"): save it as UTF-8 (\"CSV UTF-8\")")
	}
	in := &idReader{lines: br, column: column}
	first, err := in.nextLine()
	if errors.Is(err, io.EOF) {
		return in, nil
	}
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(first.id, "{") {
		return in, in.startJournal(first.id)
	}
	sep, ok := separator(first.id)
	if !ok && first.id != column {
		in.lines = bufio.NewReader(io.MultiReader(strings.NewReader(first.id+"\n"), in.lines))
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
func (in *idReader) startCSV(first inputID, sep rune) error {
	in.offset = first.line - 1
	in.csv = csv.NewReader(io.MultiReader(strings.NewReader(first.id+"\n"), in.lines))
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
func (in *idReader) startJournal(first string) error {
	want := journalHeader{Journal: journalMagic, Version: journalVersion, Kind: "create"}
	var h journalHeader
	if err := json.Unmarshal([]byte(first), &h); err != nil || h.Journal != journalMagic {
		return errors.New("its first line is JSON but not a signintokens journal line")
	}
	if h.Kind != want.Kind || in.column != "sign_in_token_id" {
		return fmt.Errorf("it is a %s journal: give it to --journal to resume that run; "+
			"only revoke --from reads a journal (a create journal's tokens)", h.Kind)
	}
	in.journal = true
	return nil
}

// next returns the next ID, or io.EOF.
func (in *idReader) next() (inputID, error) {
	switch {
	case in.journal:
		return in.nextToken()
	case in.csv == nil:
		return in.nextLine()
	}
	for {
		rec, err := in.csv.Read()
		if err != nil {
			return inputID{}, err
		}
		if in.col < len(rec) {
			if id := strings.TrimSpace(rec[in.col]); id != "" {
				line, _ := in.csv.FieldPos(in.col)
				return inputID{id, in.offset + line}, noNUL(id, in.offset+line)
			}
		}
	}
}

// nextLine returns the next line that is neither blank nor a comment,
// whatever its length.
func (in *idReader) nextLine() (inputID, error) {
	for {
		line, err := in.lines.ReadString('\n')
		if line != "" {
			in.line++
		}
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return inputID{line, in.line}, noNUL(line, in.line)
		}
		if err != nil {
			return inputID{}, err
		}
	}
}

// nextToken returns the ID of the next token a create journal made. A last
// line without its newline that does not parse was cut, and is passed over.
func (in *idReader) nextToken() (inputID, error) {
	for {
		line, err := in.lines.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return inputID{}, err
		}
		in.line++
		var l journalLine
		if json.Unmarshal(line, &l) != nil {
			if err != nil {
				return inputID{}, io.EOF
			}
			return inputID{}, fmt.Errorf("line %d is not a create journal line", in.line)
		}
		if l.ID != "" && l.Error == nil && !l.Sending {
			return inputID{l.ID, in.line}, nil
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

// countIDs reads a whole --from file before any call: it counts its IDs,
// for the progress line and the summary's count of IDs not started, and
// returns what makes it unreadable (a CSV error, a NUL byte), so that the
// run refuses it having sent nothing. It is -1 when the input is not a
// regular file, which cannot be read twice.
func countIDs(path, column string) (int, error) {
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
	in, err := newIDReader(f, column)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := in.next()
		switch {
		case errors.Is(err, io.EOF):
			return n, nil
		case err != nil:
			return 0, err
		}
		n++
	}
}
