// Package contract holds the SDK's contract tests against Clerk's own Go SDK,
// github.com/clerk/clerk-sdk-go/v2, in a module of its own so that the
// library's go.mod does not depend on it. `make contract` runs them.
//
// Each scenario is sent through clerk-sdk-go to clerktest; the answer is
// recorded, decoded by clerk-sdk-go, and replayed to this SDK's client, and
// the two decodings are compared field by field. Where clerk-sdk-go cannot
// send a request (an org_id, an unknown field), the request is sent raw and
// both decode its answer.
//
// TestLive, run by `make live-test`, sends the same scenarios to a real Clerk
// development instance and compares the shape of every answer with
// clerktest's. It needs CLERK_SECRET_KEY (an sk_test_ key) and
// CLERK_LIVE_USER_ID, and says it is skipped otherwise.
package contract
