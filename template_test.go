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

// Each file of templates/ is one of the generator's templates with this
// project's block appended. The part before the marker must be the pinned
// generator's own template, byte for byte: after an upgrade of oapi-codegen
// this fails until the file is brought up to date, instead of the old
// template silently generating the code.
func TestTemplates_stockPartMatchesGenerator(t *testing.T) {
	t.Parallel()
	// go test builds no tool, so on a fresh machine the generator may not be
	// in the module cache yet: go mod download fetches the version go.mod
	// pins, or finds it there, and says where it is.
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/oapi-codegen/oapi-codegen/v2")
	out, err := cmd.Output()
	require.NoError(t, err, "downloading the pinned oapi-codegen module: %s", out)
	var mod struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &mod))
	require.Empty(t, mod.Error)

	tests := map[string]string{
		"client.tmpl":  "{{- /* signintokens: the builders below are this project's. */}}",
		"typedef.tmpl": "{{- /* signintokens: the methods below are this project's. */}}",
	}
	for name, marker := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ours, err := os.ReadFile(filepath.Join("templates", name))
			require.NoError(t, err)
			_, body, ok := strings.Cut(string(ours), "*/ -}}\n")
			require.True(t, ok, "templates/%s lost its header comment", name)
			stockPart, _, ok := strings.Cut(body, marker)
			require.True(t, ok, "templates/%s lost its marker line", name)
			stock, err := os.ReadFile(filepath.Join(mod.Dir, "pkg", "codegen", "templates", name))
			require.NoError(t, err)
			assert.Equal(t, string(stock), stockPart,
				"the part of templates/%s before the marker differs from the pinned generator's", name)
		})
	}
}
