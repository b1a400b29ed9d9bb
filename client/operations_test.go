package client

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/gen"
)

// A testOp is how the shared tests drive one operation of gen.Operations():
// call sends it with fixed inputs and returns the ID of the model it got;
// body is the request body that call sends ("" for none); success is an
// answer the call succeeds with, whose model has the ID id; decode maps an
// answer with the operation's own model, as its service method does. The
// retry tables, the shared mapping rows and FuzzAnswer run every operation
// that has an entry here, and TestTestOps_everyOperation fails for one that
// has none: a new operation is covered by one entry.
type testOp struct {
	call        func(*Client) (id string, err error)
	body        string
	success, id string
	decode      func(a *answer, o *origin) (id string, err error)
}

// testOps are the entries, by operation ID.
func testOps() map[string]testOp {
	return map[string]testOp{
		"CreateSignInToken": {
			call: func(c *Client) (string, error) {
				return idOf(c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"}))
			},
			body: createBody, success: tokenJSON, id: "sit_2aBcD",
			decode: decodeAs(gen.CreateSignInTokenOperation(), forUser, "user_12345", func(t *gen.SignInToken) string { return t.ID }),
		},
		"RevokeSignInToken": {
			call:    func(c *Client) (string, error) { return idOf(c.SignInTokens.Revoke(context.Background(), "sit_2aBcD")) },
			success: revokedJSON, id: "sit_2aBcD",
			decode: decodeAs(gen.RevokeSignInTokenOperation(), isToken, "sit_2aBcD", func(t *gen.SignInToken) string { return t.ID }),
		},
	}
}

// testOpFor is op's entry; the test fails without one.
func testOpFor(t testing.TB, op gen.Operation) testOp {
	t.Helper()
	o, ok := testOps()[op.ID]
	require.True(t, ok, "%s has no entry in testOps (client/operations_test.go)", op.ID)
	return o
}

// idOf is the ID of a sign-in token response, or "" with err.
func idOf(res *SignInTokenResponse, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return res.SignInToken.ID, nil
}

// decodeAs maps an answer to op, whose model is T, as call does, asking
// for ask; id reads the model's ID.
func decodeAs[T any](gop gen.Operation, valid func(*T, string) error, ask string, id func(*T) string) func(*answer, *origin) (string, error) {
	op := newOperation(gop, valid)
	return func(a *answer, o *origin) (string, error) {
		var m T
		err := mapAnswer(op.bodies, op.valid, a, o, ask, &m)
		return id(&m), err
	}
}

// Every operation the document has is driven by the shared tests.
func TestTestOps_everyOperation(t *testing.T) {
	t.Parallel()
	for _, op := range gen.Operations() {
		testOpFor(t, op)
	}
	ids := make([]string, 0, len(gen.Operations()))
	for _, op := range gen.Operations() {
		ids = append(ids, op.ID)
	}
	for id := range testOps() {
		assert.True(t, slices.Contains(ids, id), "testOps has %s, which gen.Operations() does not", id)
	}
}

// The rows every operation shares, and the 404 rows for one that documents
// a 404, run for every operation of gen.Operations(), each answered with
// its own success fixture.
func TestMapping_everyOperation(t *testing.T) {
	t.Parallel()
	for _, op := range gen.Operations() {
		o := testOpFor(t, op)
		rows := commonMappings(o.success)
		if _, ok := op.Responses[404]; ok {
			rows = append(rows, documented404...)
		}
		for _, row := range rows {
			t.Run(op.ID+"/"+row.name, func(t *testing.T) {
				t.Parallel()
				f := setup(t)
				f.reply(op.Method+" /v1"+op.Path, row.status, row.contentType, row.body)
				id, err := o.call(f.client(t, WithRetryPolicy(RetryPolicy{})))
				checkMapping(t, row, err, id, o.id)
			})
		}
	}
}
