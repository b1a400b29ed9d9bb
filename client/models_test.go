package client

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clerk sends created_at and updated_at in Unix milliseconds: its own
// documented sign-in token example was created at 1638000669544.
func TestSignInToken_createdAndUpdatedAreMilliseconds(t *testing.T) {
	t.Parallel()
	var tok SignInToken
	require.NoError(t, json.Unmarshal([]byte(`{"object":"sign_in_token","id":"sit_26Ed5ZqqJcOjRwecRQij2ZovDdG",`+
		`"status":"pending","user_id":"user_26Ect5GuCCeaFWwSDiiKcgAGtVk","created_at":1638000669544,"updated_at":1638000670000}`), &tok))
	assert.Equal(t, time.Date(2021, 11, 27, 8, 11, 9, 544e6, time.UTC), tok.Created().UTC())
	assert.Equal(t, time.Date(2021, 11, 27, 8, 11, 10, 0, time.UTC), tok.Updated().UTC())
}
