package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
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
// comments skipped) or from a CSV file with a header naming the column.
type idReader struct {
	lines  *bufio.Reader
	line   int // lines read from lines
	csv    *csv.Reader
	offset int // lines read before the CSV header
	col    int
	column string
}

func newIDReader(r io.Reader, column string) (*idReader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	in := &idReader{lines: br, column: column}
	first, err := in.nextLine()
	switch {
	case errors.Is(err, io.EOF):
		return in, nil
	case err != nil:
		return nil, err
	case !strings.Contains(first.id, ",") && first.id != column:
		in.lines = bufio.NewReader(io.MultiReader(strings.NewReader(first.id+"\n"), in.lines))
		in.line--
		return in, nil
	}
	in.offset = first.line - 1
	in.csv = csv.NewReader(io.MultiReader(strings.NewReader(first.id+"\n"), in.lines))
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
func (in *idReader) next() (inputID, error) {
	if in.csv == nil {
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
				return inputID{id, in.offset + line}, nil
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
			return inputID{line, in.line}, nil
		}
		if err != nil {
			return inputID{}, err
		}
	}
}

// countIDs counts the IDs in a file, for the progress bar and the summary's
// count of IDs not started; -1 when the input is not a regular file.
func countIDs(path, column string) int {
	if path == "-" {
		return -1
	}
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return -1
	}
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
