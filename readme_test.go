package signintokens_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeImports are the packages a README fragment may use by name, for the
// imports its wrapping file gets.
func readmeImports() map[string]string {
	return map[string]string{
		"context": "context", "errors": "errors", "fmt": "fmt", "log": "log", "os": "os", "slog": "log/slog",
		"http": "net/http", "time": "time", "testing": "testing", "synctest": "testing/synctest",
		"redis": "github.com/redis/go-redis/v9", "client": "github.com/clerkgo/signintokens/client",
		"clerktest": "github.com/clerkgo/signintokens/clerktest", "redislimit": "github.com/clerkgo/signintokens/redislimit",
	}
}

// readmeBlock is one Go block of README.md, as a file of a package of its
// own: a whole file as it stands; top-level declarations (a test function)
// after a package clause and the imports they use; statements inside a
// function as well, which has c, a *client.Client, as the README's text does.
type readmeBlock struct {
	name, file, src string
	test            bool // compiled by go test -c
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var blocks []readmeBlock
	for i, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		src := m[1]
		b := readmeBlock{name: fmt.Sprintf("block%d", i+1), file: "block.go", src: src}
		switch {
		case strings.HasPrefix(src, "package "):
			b.test = strings.Contains(src, `"testing"`)
		case regexp.MustCompile(`(?m)^func `).MatchString(src):
			b.src, b.test = "package readme_test\n\n"+imports(src)+src, true
		default: // statements; c is a client, as in the README's text
			b.src = "package readme\n\n" + imports(src+" client.") + "func _(c *client.Client) {\n" + src + "}\n"
		}
		if b.test {
			b.file = "block_test.go"
		}
		blocks = append(blocks, b)
	}
	require.NotEmpty(t, blocks)
	return blocks
}

// imports is the import declaration of the packages src uses by name
// outside its comments.
func imports(src string) string {
	src = regexp.MustCompile(`(?m)//.*$`).ReplaceAllString(src, "")
	var b strings.Builder
	for name, path := range readmeImports() {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(src) {
			fmt.Fprintf(&b, "import %q\n", path)
		}
	}
	return b.String() + "\n"
}

// Every Go block of README.md compiles: each is built (go test -c for a
// test) as a package of its own inside this module, through an overlay, so
// that nothing is written into the tree. A block that does not compile
// fails here, naming it.
func TestREADME_goBlocksCompile(t *testing.T) {
	t.Parallel()
	root, err := os.Getwd()
	require.NoError(t, err)
	tmp := t.TempDir()
	overlay := map[string]map[string]string{"Replace": {}}
	var builds, tests []string
	for _, b := range readmeBlocks(t) {
		src := filepath.Join(tmp, b.name+".go")
		require.NoError(t, os.WriteFile(src, []byte(b.src), 0o600))
		overlay["Replace"][filepath.Join(root, "readmeblocks", b.name, b.file)] = src
		if b.test {
			tests = append(tests, "./readmeblocks/"+b.name)
		} else {
			builds = append(builds, "./readmeblocks/"+b.name)
		}
	}
	js, err := json.Marshal(overlay)
	require.NoError(t, err)
	overlayFile := filepath.Join(tmp, "overlay.json")
	require.NoError(t, os.WriteFile(overlayFile, js, 0o600))
	for _, args := range [][]string{
		append([]string{"build", "-overlay", overlayFile, "-o", os.DevNull}, builds...),
		append([]string{"test", "-c", "-vet=off", "-overlay", overlayFile, "-o", tmp + string(filepath.Separator)}, tests...),
	} {
		out, err := exec.Command("go", args...).CombinedOutput()
		assert.NoError(t, err, "a Go block of README.md does not compile (blockN counts ```go blocks from the top):\n%s", out)
	}
}
