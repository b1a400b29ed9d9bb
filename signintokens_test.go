package signintokens_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens"
	"github.com/clerkgo/signintokens/gen"
)

func TestOpenAPI_isValid(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(signintokens.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))

	assert.Equal(t, "3.0.3", doc.OpenAPI)
	assert.Equal(t, signintokens.APIVersion, doc.Info.Version, "APIVersion must follow info.version")

	create := doc.Paths.Find("/sign_in_tokens").Post
	require.NotNil(t, create)
	assert.Equal(t, "CreateSignInToken", create.OperationID)
	assert.ElementsMatch(t, []string{"200", "403", "404", "422"}, keys(create.Responses.Map()))

	revoke := doc.Paths.Find("/sign_in_tokens/{sign_in_token_id}/revoke").Post
	require.NotNil(t, revoke)
	assert.Equal(t, "RevokeSignInToken", revoke.OperationID)
	assert.ElementsMatch(t, []string{"200", "400", "404"}, keys(revoke.Responses.Map()))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every operation that is not idempotent by its method says how a client
// may resend it: x-creates-credential (never once a byte may have left) or
// x-idempotent (again after a lost answer). The generated client reads
// them; an operation with neither would be resent never, and its failures
// would not say whether it made anything.
func TestOpenAPI_retrySafetyDeclared(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(signintokens.OpenAPI)
	require.NoError(t, err)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			credential, creates := op.Extensions["x-creates-credential"]
			_, idempotent := op.Extensions["x-idempotent"]
			if creates {
				name, ok := credential.(string)
				assert.True(t, ok && name != "", "%s %s: x-creates-credential names what it makes, such as \"sign-in token\" (the words of ErrMaybeCreated's note)", method, path)
			}
			switch method {
			case "GET", "HEAD", "PUT", "DELETE", "OPTIONS":
				assert.False(t, idempotent, "%s %s: its method already says it may be resent", method, path)
			default:
				assert.True(t, creates != idempotent, "%s %s: want exactly one of x-creates-credential and x-idempotent", method, path)
			}
		}
	}
}

// Every operation of openapi.yaml has its descriptor in gen.Operations():
// the generator leaves none out without a word (internal/speccheck refuses
// the ones the template cannot make calls of, at go generate).
func TestOpenAPI_everyOperationGenerated(t *testing.T) {
	t.Parallel()
	doc, err := openapi3.NewLoader().LoadFromData(signintokens.OpenAPI)
	require.NoError(t, err)
	var generated []string
	for _, op := range gen.Operations() {
		generated = append(generated, op.ID)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			assert.Contains(t, generated, op.OperationID, "%s %s", method, path)
		}
	}
}
