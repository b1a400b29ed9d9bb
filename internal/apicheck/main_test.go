package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The check passes on the recorded baseline, fails when a recorded line
// is missing (a name removed, or a signature or a field's type changed,
// as an edit of openapi.yaml can do through client's aliases), and only
// reports a new name.
func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(string) string
		failed  bool
		message string
	}{
		{"the baseline", func(s string) string { return s }, false, ""},
		{"a changed signature", func(s string) string {
			return strings.Replace(s, "Revoke(context.Context, string)", "Revoke(context.Context, int)", 1)
		}, true, "removed or changed: pkg client, func (*SignInTokensService).Revoke"},
		{"a field's type changed", func(s string) string {
			return strings.Replace(s, "CreateSignInTokenRequest struct, UserID string", "CreateSignInTokenRequest struct, UserID *string", 1)
		}, true, "UserID *string"},
		{"a method of a model client re-exports from gen", func(s string) string {
			return strings.Replace(s, "func (SignInToken).String() string", "func (SignInToken).String() int", 1)
		}, true, "removed or changed: pkg client, func (SignInToken).String() int"},
		{"a new name", func(s string) string {
			return strings.Replace(s, "pkg client, const Version untyped string\n", "", 1)
		}, false, "new (record it with -write): pkg client, const Version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, name := range []string{"client", "clerktest", "redislimit"} {
				b, err := os.ReadFile(filepath.Join("..", "..", "api", name+".txt"))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, name+".txt"), []byte(tt.edit(string(b))), 0o600))
			}
			var out strings.Builder
			err := run(&out, dir, false)
			assert.Equal(t, tt.failed, err != nil, "%v\n%s", err, out.String())
			assert.Contains(t, out.String(), tt.message)
		})
	}
}
