package contract

import (
	"context"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/signintoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/client"
)

const userID = "user_26Ect5GuCCeaFWwSDiiKcgAGtVk"

// The token answers, through clerk-sdk-go against clerktest, decoded by it and
// by this SDK from the same answer.
func TestClerkSDKGo_tokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "sk_test_contract")

	// create
	theirs, err := e.theirs.Create(ctx, &signintoken.CreateParams{UserID: clerk.String(userID)})
	require.NoError(t, err)
	mine, err := ours(t, e.rec.answer(), create(client.CreateSignInTokenRequest{UserID: userID}))
	require.NoError(t, err)
	sameToken(t, theirs, mine)
	assert.Equal(t, "pending", theirs.Status)
	assert.NotEmpty(t, theirs.Token)
	created := theirs.ID

	// create with an expiry
	theirs, err = e.theirs.Create(ctx, &signintoken.CreateParams{UserID: clerk.String(userID), ExpiresInSeconds: clerk.Int64(3600)})
	require.NoError(t, err)
	mine, err = ours(t, e.rec.answer(), create(client.CreateSignInTokenRequest{UserID: userID}))
	require.NoError(t, err)
	sameToken(t, theirs, mine)

	// create with an expiry and an organization: clerk-sdk-go v2.7.0 has no
	// org_id, so the request is sent raw and both decode its answer.
	ex := e.raw(t, "/sign_in_tokens", `{"user_id":"`+userID+`","org_id":"org_2aB","expires_in_seconds":60}`)
	theirs, err = theirsDecode(t, ex)
	require.NoError(t, err)
	mine, err = ours(t, ex, create(client.CreateSignInTokenRequest{UserID: userID}))
	require.NoError(t, err)
	sameToken(t, theirs, mine)

	// revoke
	theirs, err = e.theirs.Revoke(ctx, created)
	require.NoError(t, err)
	mine, err = ours(t, e.rec.answer(), revoke(created))
	require.NoError(t, err)
	sameToken(t, theirs, mine)
	assert.Equal(t, "revoked", theirs.Status)
	assert.Empty(t, theirs.Token, "the token itself comes only with create")

	// revoke twice
	_, err = e.theirs.Revoke(ctx, created)
	_, ourErr := ours(t, e.rec.answer(), revoke(created))
	sameError(t, err, ourErr, 400, "sign_in_token_cannot_be_revoked_code", "")

}

// Clerk's error answers, as the two SDKs read them.
func TestClerkSDKGo_errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "sk_test_contract")

	// unknown user
	_, err := e.theirs.Create(ctx, &signintoken.CreateParams{UserID: clerk.String("user_nobody")})
	_, ourErr := ours(t, e.rec.answer(), create(client.CreateSignInTokenRequest{UserID: "user_nobody"}))
	sameError(t, err, ourErr, 404, "resource_not_found", "")

	// unknown token
	_, err = e.theirs.Revoke(ctx, "sit_nobody")
	_, ourErr = ours(t, e.rec.answer(), revoke("sit_nobody"))
	sameError(t, err, ourErr, 404, "resource_not_found", "")

	// missing user_id
	_, err = e.theirs.Create(ctx, &signintoken.CreateParams{})
	_, ourErr = ours(t, e.rec.answer(), create(client.CreateSignInTokenRequest{UserID: "user_x"}))
	sameError(t, err, ourErr, 422, "form_param_missing", "user_id")

	// unknown field, sent raw
	ex := e.raw(t, "/sign_in_tokens", `{"user_id":"`+userID+`","role":"admin"}`)
	_, err = theirsDecode(t, ex)
	_, ourErr = ours(t, ex, create(client.CreateSignInTokenRequest{UserID: userID}))
	sameError(t, err, ourErr, 422, "form_param_unknown", "role")
}

// A wrong key, and none: 401, clerk_key_invalid and
// authorization_header_format_invalid as Clerk answers them, which this SDK
// maps to *client.APIError with Clerk's errors and trace id, as
// clerk-sdk-go decodes them.
func TestClerkSDKGo_wrongKey(t *testing.T) {
	t.Parallel()
	for key, code := range map[string]string{"sk_test_wrong": "clerk_key_invalid", "": "authorization_header_format_invalid"} {
		e := newEnv(t, key)
		_, err := e.theirs.Create(context.Background(), &signintoken.CreateParams{UserID: clerk.String(userID)})
		_, ourErr := ours(t, e.rec.answer(), create(client.CreateSignInTokenRequest{UserID: userID}))
		sameError(t, err, ourErr, 401, code, "")
		var ae *client.APIError
		assert.ErrorAs(t, ourErr, &ae)
	}
}
