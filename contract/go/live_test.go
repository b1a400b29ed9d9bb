package contract

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clerkgo/signintokens/clerktest"
)

// TestLive sends every scenario to a real Clerk development instance and to
// clerktest, and compares the shape of each answer: the status, the fields
// and their JSON types, the error codes and meta.param_name, and the unit of
// the timestamps. This is how the fake is kept honest when Clerk changes.
// It runs only with CLERK_SECRET_KEY (an sk_test_ key) and
// CLERK_LIVE_USER_ID (a user of that instance), through `make live-test`;
// never in CI. It creates two tokens for that user and revokes one.
func TestLive(t *testing.T) {
	key, user := os.Getenv("CLERK_SECRET_KEY"), os.Getenv("CLERK_LIVE_USER_ID")
	switch {
	case key == "" || user == "":
		t.Skip("skipped: set CLERK_SECRET_KEY (an sk_test_ key of a development instance) and CLERK_LIVE_USER_ID to run it")
	case !strings.HasPrefix(key, "sk_test_"):
		t.Skip("skipped: CLERK_SECRET_KEY is not an sk_test_ key; the live check runs against development instances only")
	}
	live := liveAPI{base: cmp.Or(os.Getenv("CLERK_API_URL"), "https://api.clerk.com/v1"), key: key, user: user}
	fake := clerktest.New(clerktest.WithUsers(user))
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	local := liveAPI{base: srv.URL + "/v1", key: fake.SecretKey(), user: user}

	for _, sc := range liveScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			theirs := sc.send(t, &live)
			ours := sc.send(t, &local)
			assert.Equal(t, theirs.status, ours.status, "status")
			assert.Equal(t, shape(theirs.json), shape(ours.json), "the shape of the answer\nClerk:     %s\nclerktest: %s", theirs.raw, ours.raw)
			assert.Equal(t, codes(theirs.json), codes(ours.json), "error codes and meta.param_name")
			assert.Equal(t, millis(theirs.json), millis(ours.json), "timestamps in milliseconds")
		})
	}
}

// liveAPI is one server the scenarios run against, and what they created.
type liveAPI struct {
	base, key, user string
	tokenID         string
}

type answer struct {
	status int
	raw    string
	json   any
}

func (a *liveAPI) post(t *testing.T, key, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Clerk-API-Version", "2026-05-12")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rsp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return answer{rsp.StatusCode, string(b), v}
}

type liveScenario struct {
	name string
	send func(*testing.T, *liveAPI) answer
}

func liveScenarios() []liveScenario {
	return []liveScenario{
		{"create", func(t *testing.T, a *liveAPI) answer {
			ans := a.post(t, a.key, "/sign_in_tokens", fmt.Sprintf(`{"user_id":%q,"expires_in_seconds":600}`, a.user))
			if m, ok := ans.json.(map[string]any); ok {
				a.tokenID, _ = m["id"].(string)
			}
			return ans
		}},
		{"revoke", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, a.key, "/sign_in_tokens/"+a.tokenID+"/revoke", "")
		}},
		{"revoke twice", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, a.key, "/sign_in_tokens/"+a.tokenID+"/revoke", "")
		}},
		{"unknown user", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, a.key, "/sign_in_tokens", `{"user_id":"user_2zzzzzzzzzzzzzzzzzzzzzzzzzz"}`)
		}},
		{"unknown token", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, a.key, "/sign_in_tokens/sit_2zzzzzzzzzzzzzzzzzzzzzzzzzz/revoke", "")
		}},
		{"missing user_id", func(t *testing.T, a *liveAPI) answer { return a.post(t, a.key, "/sign_in_tokens", `{}`) }},
		{"unknown field", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, a.key, "/sign_in_tokens", fmt.Sprintf(`{"user_id":%q,"role":"admin"}`, a.user))
		}},
		{"wrong key", func(t *testing.T, a *liveAPI) answer {
			return a.post(t, "sk_test_wrong", "/sign_in_tokens", fmt.Sprintf(`{"user_id":%q}`, a.user))
		}},
	}
}

// shape replaces every value by its JSON type, keeping object keys: two
// answers with the same shape differ only in their values.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = shape(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// codes lists the error codes of an answer with their meta.param_name.
func codes(v any) []string {
	m, _ := v.(map[string]any)
	errs, _ := m["errors"].([]any)
	var out []string
	for _, e := range errs {
		em, _ := e.(map[string]any)
		meta, _ := em["meta"].(map[string]any)
		out = append(out, fmt.Sprintf("%v %v", em["code"], meta["param_name"]))
	}
	sort.Strings(out)
	return out
}

// millis reports, for each timestamp field, whether it is in milliseconds.
func millis(v any) map[string]bool {
	m, _ := v.(map[string]any)
	out := map[string]bool{}
	for _, k := range []string{"created_at", "updated_at"} {
		if f, ok := m[k].(float64); ok {
			out[k] = f > 1e12
		}
	}
	return out
}
