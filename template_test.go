package signintokens_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// templates/client.tmpl is the generator's client template with this
// project's builders appended. The part before the marker must be the pinned
// generator's own template, byte for byte: after an upgrade of oapi-codegen
// this fails until the file is brought up to date, instead of the old
// template silently generating the client.
func TestClientTemplate_stockPartMatchesGenerator(t *testing.T) {
	t.Parallel()
	const marker = "{{- /* signintokens: the builders below are this project's. */}}"
	ours, err := os.ReadFile("templates/client.tmpl")
	require.NoError(t, err)
	_, body, ok := strings.Cut(string(ours), "*/ -}}\n")
	require.True(t, ok, "templates/client.tmpl lost its header comment")
	stockPart, _, ok := strings.Cut(body, marker)
	require.True(t, ok, "templates/client.tmpl lost its marker line")

	// go test builds no tool, so on a fresh machine the generator may not be
	// in the module cache yet: go mod download fetches the version go.mod
	// pins, or finds it there, and says where it is.
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/oapi-codegen/oapi-codegen/v2")
	out, err := cmd.Output()
	require.NoError(t, err, "downloading the pinned oapi-codegen module: %s", out)
	var mod struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &mod))
	require.Empty(t, mod.Error)
	stock, err := os.ReadFile(filepath.Join(mod.Dir, "pkg", "codegen", "templates", "client.tmpl"))
	require.NoError(t, err)
	assert.Equal(t, string(stock), stockPart,
		"the part of templates/client.tmpl before the marker differs from the pinned generator's client.tmpl")
}
