package signintokens_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens"
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
