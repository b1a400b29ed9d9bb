package signintokens_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A module that imports only client gets only what client needs in its
// go.mod: no Redis client (only redislimit needs one), no generator or
// tooling. The scratch module requires this one through a replace, and go
// mod tidy runs with the environment's module proxy (a fresh machine's
// cache lacks what tidy checks of the dependencies' own tests), its go.sum
// seeded with this module's.
func TestUsersModule_clientOnly(t *testing.T) {
	t.Parallel()
	root, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/user\n\ngo 1.26.0\n\nrequire github.com/clerkgo/signintokens v0.0.0\n\n" +
			"replace github.com/clerkgo/signintokens => " + root + "\n",
		"main.go": "package main\n\nimport \"github.com/clerkgo/signintokens/client\"\n\nfunc main() { _, _ = client.New() }\n",
	}
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	files["go.sum"] = string(sum)
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	for _, unwanted := range []string{"redis", "oapi-codegen/oapi-codegen", "kin-openapi", "golang.org/x/tools", "testify"} {
		assert.NotContains(t, string(mod), unwanted)
	}
	assert.LessOrEqual(t, strings.Count(string(mod), "// indirect"), 4, "%s", mod)
}
