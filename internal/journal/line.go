// Package journal is the record of a bulk run: a header naming what wrote
// it, then one JSON line per event, each written in one write and the
// lines saying a call is about to be sent on disk before the call goes
// out. A run reads a journal back to resume: it refuses a file it does not
// recognise, cuts a torn last line, and checks that no line was taken out.
package journal

import (
	"encoding/json"
	"reflect"
)

// Magic and Version name the format in a journal's first line.
const (
	Magic   = "signintokens"
	Version = 1
)

// Header is the first line of every journal, and of a bulk run's stdout:
// what wrote the lines below it, so that a reader refuses a file it does
// not recognise, and a resumed run one made with other options.
type Header struct {
	// Journal is Magic.
	Journal string `json:"journal"`
	// Version is the format's version, Version.
	Version int `json:"version"`
	// Kind is the command: create or revoke.
	Kind string `json:"kind"`
	// OrgID is a create's organization, which every token of the run
	// shares.
	OrgID string `json:"org_id,omitempty"`
	// ExpiresInSeconds is a create's token life, which every token of
	// the run shares; 0: Clerk's default.
	ExpiresInSeconds int64 `json:"expires_in_seconds,omitempty"`
	// Key is the field of each line that holds its input ID, such as
	// user_id. It is the command's, so it is not written.
	Key string `json:"-"`
}

// NewHeader is the header of a run of kind whose input IDs are in key.
func NewHeader(kind, key string) Header {
	return Header{Journal: Magic, Version: Version, Kind: kind, Key: key}
}

// Line is one line of a run's record. Every line names its input ID and
// the input line it is on. A create writes a line with Sending set just
// before its request goes out, and its outcome once known; a run killed in
// between leaves the first without the second.
type Line struct {
	// Seq numbers the lines after each header from 1, so that a reader
	// knows when lines were taken out (a filtered copy).
	Seq uint64 `json:"seq"`
	// Key is the input ID, written under the header's Key.
	Key string `json:"-"`
	// Line is the input line the ID is on, from 1.
	Line int `json:"line"`
	// Sending says a call for this ID is about to be sent.
	Sending bool `json:"sending,omitempty"`
	// ID is the ID of what the call made or changed, from its answer.
	ID string `json:"id,omitempty"`
	// Status is that object's status, from the answer.
	Status string `json:"status,omitempty"`
	// URL is the credential's URL, from a create's answer.
	URL string `json:"url,omitempty"`
	// DuplicateOf is the line where the same ID came first: this one was
	// not sent.
	DuplicateOf int `json:"duplicate_of,omitempty"`
	// Error is a failed call's error.
	Error *ErrorInfo `json:"error,omitempty"`
	// Uncertain says a failed create may have made a credential all the
	// same (a 5xx, a timeout, a connection lost after sending).
	Uncertain bool `json:"uncertain,omitempty"`
	// Skipped carries an earlier run's success into this run's record,
	// so that a run resumed from this record knows it too.
	Skipped bool `json:"skipped,omitempty"`
	// HeldBack says the ID was not called: an earlier call for it may
	// have made its credential (an earlier run's, or another run's claim).
	HeldBack bool `json:"held_back,omitempty"`
	// AlreadyRevoked says a revoke answered "cannot be revoked" for a token
	// that this run or its journal had already sent a revoke for: done.
	AlreadyRevoked bool `json:"already_revoked,omitempty"`
}

// ErrorInfo is a failed call's error, in a line and in the command's
// --json output.
type ErrorInfo struct {
	// Kind is invalid_request, clerk (an answer Clerk documents), api
	// (another answer), transport, or interrupted.
	Kind string `json:"kind"`
	// Message is the error's text, one printable line.
	Message string `json:"message"`
	// StatusCode is the answer's status; 0 without an answer.
	StatusCode int `json:"status,omitempty"`
	// Code is the first of Clerk's error codes in the answer.
	Code string `json:"code,omitempty"`
	// TraceID is Clerk's trace ID of the answer, for its support.
	TraceID string `json:"trace_id,omitempty"`
}

// codec writes and reads lines whose input ID is under one key: a struct
// type made for it, whose seq and key fields come first, then Line's (the
// outer seq hides Line's own, as encoding/json lets a shallower field do).
type codec struct{ wire reflect.Type }

func newCodec(key string) codec {
	return codec{reflect.StructOf([]reflect.StructField{
		{Name: "Seq", Type: reflect.TypeFor[uint64](), Tag: `json:"seq"`},
		{Name: "Key", Type: reflect.TypeFor[string](), Tag: reflect.StructTag(`json:"` + key + `,omitempty"`)},
		{Name: "Line", Type: reflect.TypeFor[Line](), Anonymous: true},
	})}
}

// marshal is l as one JSON object, without its newline.
func (c codec) marshal(l *Line) ([]byte, error) {
	v := reflect.New(c.wire).Elem()
	v.Field(0).SetUint(l.Seq)
	v.Field(1).SetString(l.Key)
	v.Field(2).Set(reflect.ValueOf(*l))
	return json.Marshal(v.Addr().Interface())
}

// unmarshal reads a line.
func (c codec) unmarshal(b []byte) (Line, error) { return c.reader().unmarshal(b) }

// reader reads lines into one value of the wire type, reused: a journal of
// millions of lines allocates it once.
func (c codec) reader() lineReader {
	v := reflect.New(c.wire)
	return lineReader{v: v, ptr: v.Interface()}
}

type lineReader struct {
	v   reflect.Value
	ptr any
}

func (r lineReader) unmarshal(b []byte) (Line, error) {
	r.v.Elem().SetZero()
	if err := json.Unmarshal(b, r.ptr); err != nil {
		return Line{}, err
	}
	l := r.v.Elem().Field(2).Interface().(Line)
	l.Seq, l.Key = r.v.Elem().Field(0).Uint(), r.v.Elem().Field(1).String()
	return l, nil
}

// Unmarshal reads one line of a journal whose header is h.
func (h Header) Unmarshal(b []byte) (Line, error) { return newCodec(h.Key).unmarshal(b) }
