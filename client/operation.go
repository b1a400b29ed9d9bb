package client

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/clerkgo/signintokens/gen"
)

// An operation is one endpoint of the API as data: how its input is checked
// and its request built, whether it may be sent again, and which answers
// its document defines. I is the operation's input, such as the create's
// body or the revoke's token ID; T is the model of its success body, such
// as gen.SignInToken.
type operation[I, T any] struct {
	// check rejects an input that must not be sent.
	check func(I) error
	// build makes the request for one attempt from its context, the
	// server URL (with a trailing slash) and the input: a builder generated
	// from openapi.yaml (templates/client.tmpl).
	build func(ctx context.Context, server string, in I) (*http.Request, error)
	// valid rejects a success body that decodes but cannot be used, such
	// as a token without an ID.
	valid func(*T) error
	// idempotent says whether the operation may be sent again after it may
	// have reached the server. A create may not: every create that succeeds
	// is a live credential, and Clerk has no idempotency key. See retryable.
	idempotent bool
	// bodies maps each status the document gives the operation to the kind
	// of body it documents for it.
	bodies map[int]bodyKind
}

// bodyKind is the body a document gives one status of an operation.
type bodyKind int

const (
	successBody bodyKind = iota + 1 // the operation's model T
	errorsBody                      // Clerk's ClerkErrors
	unknownBody                     // a schema this package does not map
)

// newOperation describes an operation whose generated response type is R,
// such as gen.CreateSignInTokenResponse. R's JSONnnn fields say which
// statuses the document defines and the type of each one's body, so that a
// status added to openapi.yaml and regenerated is mapped with no change
// here. They are read once, when a Client is made.
func newOperation[R, I, T any](check func(I) error, build func(context.Context, string, I) (*http.Request, error), valid func(*T) error, idempotent bool) operation[I, T] {
	return operation[I, T]{
		check:      check,
		build:      build,
		valid:      valid,
		idempotent: idempotent,
		bodies:     documentedBodies(reflect.TypeFor[R](), reflect.TypeFor[T]()),
	}
}

// documentedBodies reads the JSONnnn fields of a generated response type
// whose success model is success.
func documentedBodies(t, success reflect.Type) map[int]bodyKind {
	bodies := map[int]bodyKind{}
	for i := range t.NumField() {
		f := t.Field(i)
		n, ok := strings.CutPrefix(f.Name, "JSON")
		code, err := strconv.Atoi(n)
		if !ok || err != nil || f.Type.Kind() != reflect.Pointer {
			continue
		}
		switch f.Type.Elem() {
		case success:
			bodies[code] = successBody
		case reflect.TypeFor[gen.ClerkErrors]():
			bodies[code] = errorsBody
		default:
			bodies[code] = unknownBody
		}
	}
	return bodies
}
