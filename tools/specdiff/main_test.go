package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// variant writes testdata/base.yaml with old replaced by new.
func variant(t *testing.T, old, new string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, old) {
		t.Fatalf("base.yaml has no %q", old)
	}
	path := filepath.Join(t.TempDir(), "upstream.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(s, old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runDiff(t *testing.T, allow, upstream string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run([]string{"-allow", allow, "testdata/base.yaml", upstream}, &out, &errOut)
	return out.String() + errOut.String(), code
}

// specChange is a change upstream makes to a small document of ours, and
// what the report must say of it.
type specChange struct {
	name, old, new string
	diff           string // in a [diff] line
	rule           string // a named change's id, where oasdiff has one
}

// Each change upstream makes to what an operation answers is a difference
// to look at (exit 1), reported by a structural [diff] line whether or not
// oasdiff has a named rule for it, and by the rule's line where it has one.
func TestSpecDiff_responseDifferences(t *testing.T) {
	t.Parallel()
	checkChanges(t, []specChange{
		{"a new error status", `        "404":
          description: not found`, `        "409":
          description: conflict
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Errors"
        "404":
          description: not found`, `responses/added: "409"`, "response-non-success-status-added"},
		{"a new enum value through oneOf", `        status:
          type: string
          enum: [pending, revoked]`, `        status:
          oneOf:
            - type: string
              enum: [pending, revoked]
            - type: string
              enum: [expired]`, "oneOf", ""},
		{"a new response header", `        "200":
          description: ok
          content:`, `        "200":
          description: ok
          headers:
            X-RateLimit-Remaining:
              schema:
                type: integer
          content:`, "X-RateLimit-Remaining", ""},
	})
}

// The same for a change to what an operation takes, or to the operation.
func TestSpecDiff_requestDifferences(t *testing.T) {
	t.Parallel()
	checkChanges(t, []specChange{
		{"a new request property", `                user_id:
                  type: string`, `                user_id:
                  type: string
                locale:
                  type: string`, `properties/added: "locale"`, "new-optional-request-property"},
		{"a tightened minimum", `                  minimum: 1`, `                  minimum: 60`, `expires_in_seconds/min: from "1" to "60"`, "request-property-min-increased"},
		{"additionalProperties allowed", `              additionalProperties: false`, `              additionalProperties: true`, `additionalPropertiesAllowed: from "false" to "true"`, ""},
		{"security turned off", `      operationId: CreateSignInToken`, `      operationId: CreateSignInToken
      security: []`, "security", ""},
		{"a renamed path parameter", `  /sign_in_tokens/{sign_in_token_id}/revoke:`, `  /sign_in_tokens/{id}/revoke:`, "parameters/added/path", "new-request-path-parameter"},
		{"deprecated", `      operationId: RevokeSignInToken`, `      operationId: RevokeSignInToken
      deprecated: true`, "deprecated", "endpoint-deprecated"},
		{"an extension the generator reads", `      operationId: CreateSignInToken`, `      operationId: CreateSignInToken
      x-creates-credential: true`, `extensions/added: "x-creates-credential"`, ""},
	})
}

func checkChanges(t *testing.T, tests []specChange) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, code := runDiff(t, "testdata/allow.yaml", variant(t, tt.old, tt.new))
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			if !hasLine(out, "DIFFERENT  [diff]", tt.diff) {
				t.Errorf("no structural line with %q:\n%s", tt.diff, out)
			}
			if tt.rule != "" && !hasLine(out, "DIFFERENT  [", tt.rule) {
				t.Errorf("no %s change:\n%s", tt.rule, out)
			}
		})
	}
}

func hasLine(out, prefix, substr string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

// An allowed difference passes; with the allow-list emptied, it fails.
func TestSpecDiff_allowed(t *testing.T) {
	t.Parallel()
	upstream := variant(t, "                  format: int64\n", "")
	out, code := runDiff(t, "testdata/allow.yaml", upstream)
	if code != 0 || !strings.Contains(out, "allowed    [diff]") || !strings.Contains(out, "because: a deliberate format") {
		t.Fatalf("exit %d, want 0 with the allowed difference listed:\n%s", code, out)
	}
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(empty, []byte("[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runDiff(t, empty, upstream); code != 1 {
		t.Fatalf("with no allow-list: exit %d, want 1:\n%s", code, out)
	}
	if out, code := runDiff(t, "testdata/allow.yaml", "testdata/base.yaml"); code != 0 || !strings.Contains(out, "0 differences") {
		t.Fatalf("a document against itself: exit %d:\n%s", code, out)
	}
}

// A usage error or a file that cannot be read is exit 2, and says which.
func TestSpecDiff_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"testdata/base.yaml"}, "usage error"},
		{[]string{"-allow", "testdata/allow.yaml", "testdata/base.yaml", "testdata/missing.yaml"}, "cannot read testdata/missing.yaml"},
		{[]string{"-allow", "testdata/missing.yaml", "testdata/base.yaml", "testdata/base.yaml"}, "cannot read the allow-list"},
		{[]string{"-allow", "testdata/allow.yaml", "testdata/base.yaml", "testdata/allow.yaml"}, "cannot read testdata/allow.yaml"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(tt.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut.String(), tt.want)
		}
	}
}

// A new API version alone is a difference to look at: the SDK sends the
// version openapi.yaml names, so a newer one is the signal to review Clerk's
// changes and move to it. Staying on the old version is an allow-list entry
// that names the new version, with the reason.
func TestSpecDiff_apiVersion(t *testing.T) {
	t.Parallel()
	upstream := variant(t, `  version: "1"`, `  version: "2"`)
	out, code := runDiff(t, "testdata/allow.yaml", upstream)
	if code != 1 || !hasLine(out, "DIFFERENT  [info] api-version-changed", "from `1` to `2`") {
		t.Fatalf("exit %d, want 1 with api-version-changed:\n%s", code, out)
	}
	stay := filepath.Join(t.TempDir(), "stay.yaml")
	entry := "- match: 'api-version-changed: .* to `2`$'\n  why: version 2 changes nothing the SDK uses\n"
	if err := os.WriteFile(stay, []byte(entry), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runDiff(t, stay, upstream); code != 0 || !strings.Contains(out, "allowed    [info] api-version-changed") {
		t.Fatalf("with the new version allowed: exit %d, want 0:\n%s", code, out)
	}
	if out, code := runDiff(t, stay, variant(t, `  version: "1"`, `  version: "3"`)); code != 1 {
		t.Fatalf("a version the entry does not name: exit %d, want 1:\n%s", code, out)
	}
}
