package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// WriteHeader writes h, a journal's first line, to w.
func WriteHeader(w io.Writer, h Header) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// isHeader reports whether a line is a journal header: an object with a
// "journal" field (a journal line has none).
func isHeader(line []byte) bool {
	if !bytes.Contains(line, []byte(`"journal"`)) {
		return false // a cheap test first; a name spelt with escapes is then read as a line, and refused
	}
	var probe struct {
		Journal *string `json:"journal"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Journal != nil
}

// checkHeader refuses a line that is not want's header, or that has a field
// this version does not know: a header it cannot read whole is refused
// from the first run on, never accepted once and refused later.
func checkHeader(line []byte, want Header) error {
	var h Header
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	switch trimmed := bytes.TrimSpace(line); {
	case len(trimmed) > 0 && trimmed[0] == '[':
		return &BadError{"it is a JSON array (such as jq -s output), not the journal: give the journal itself"}
	case json.Unmarshal(line, &h) != nil || h.Journal != Magic:
		return &BadError{"its first line is not a signintokens journal line: it is not a journal"}
	case h.Version != Version:
		return &BadError{fmt.Sprintf("it is a journal of version %d; this signintokens reads version %d", h.Version, Version)}
	case dec.Decode(new(Header)) != nil:
		return &BadError{"its header has a field this signintokens does not know: it was written by another " +
			"version, or edited"}
	case h.Kind != want.Kind:
		return &BadError{fmt.Sprintf("it is a %s journal, not a %s one", h.Kind, want.Kind)}
	}
	if h.Key = want.Key; h != want {
		return &BadError{fmt.Sprintf("it was written with other options (%s): run with the same --org-id and --expires-in", h.options())}
	}
	return nil
}

// options describes a header's create options.
func (h Header) options() string {
	org, exp := h.OrgID, "the default expiry"
	if org == "" {
		org = "no organization"
	}
	if h.ExpiresInSeconds != 0 {
		exp = fmt.Sprintf("expires in %d s", h.ExpiresInSeconds)
	}
	return org + ", " + exp
}
