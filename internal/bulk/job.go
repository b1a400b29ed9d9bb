// Package bulk runs one call for each ID of an input, under a rate and a
// concurrency, and records each call in a journal (package journal): its
// intent on disk before it is sent, its outcome once known. A call that may
// have made a credential is never made again blindly, by this run or by
// one resumed from its record, nor by another run sharing its claims.
package bulk

import (
	"context"
	"errors"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/journal"
)

// Job is one kind of bulk run: what it calls for each ID.
type Job struct {
	// Name is the command (create, revoke), as messages give it.
	Name string
	// Header is the first line of the run's record; its Key names the
	// input's IDs, in the record and in a CSV input.
	Header journal.Header
	// Creates says a call makes a credential: an ID whose earlier call
	// may have happened is held back, never called again blindly. (A
	// revoke of such an ID is sent again; revoking twice is harmless.)
	Creates bool
	// Send makes the call for one ID, on a client made with
	// ClientOptions, and says what the answer gave.
	Send func(ctx context.Context, id string) (Made, error)
	// AlreadyDone reports whether err says that an earlier attempt of
	// the call for id succeeded and its answer was lost (a revoke's
	// "cannot be revoked"), and what that attempt made; it is asked only
	// when an attempt was sent before. Nil: no error says so.
	AlreadyDone func(id string, err error) (Made, bool)
}

// Made is what a call's answer gave: the ID of what it made or changed,
// its status and its URL, each "" if the answer had none.
type Made struct {
	// ID is the ID of what the call made or changed.
	ID string
	// Status is its status.
	Status string
	// URL is a credential's URL.
	URL string
}

// Describe says what kind of error err is, for a record's line or a
// script: invalid_request, clerk (an answer Clerk documents), api (any
// other answer) or transport.
func Describe(err error) journal.ErrorInfo {
	info := journal.ErrorInfo{Kind: "transport", Message: err.Error()}
	var ce *client.ClerkErrors
	var ae *client.APIError
	switch {
	case errors.Is(err, client.ErrInvalidRequest):
		info.Kind = "invalid_request"
	case errors.As(err, &ce):
		info.Kind, info.StatusCode, info.TraceID = "clerk", ce.StatusCode, ce.TraceID
		if len(ce.Errors) > 0 {
			info.Code = ce.Errors[0].Code
		}
	case errors.As(err, &ae):
		info.Kind, info.StatusCode, info.TraceID = "api", ae.StatusCode, ae.TraceID
		if len(ae.Errors) > 0 {
			info.Code = ae.Errors[0].Code
		}
	}
	return info
}
