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

	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/oapi-codegen/oapi-codegen/v2").Output()
	require.NoError(t, err, "locating the pinned oapi-codegen module")
	dir := strings.TrimSpace(string(out))
	require.NotEmpty(t, dir, "oapi-codegen is not in the module cache: run go mod download")
	stock, err := os.ReadFile(filepath.Join(dir, "pkg", "codegen", "templates", "client.tmpl"))
	require.NoError(t, err)
	assert.Equal(t, string(stock), stockPart,
		"the part of templates/client.tmpl before the marker differs from the pinned generator's client.tmpl")
}
