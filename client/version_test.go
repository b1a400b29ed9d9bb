package client

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The newest release in CHANGELOG.md is the version the SDK reports.
func TestVersion_matchesChangelog(t *testing.T) {
	t.Parallel()
	changelog, err := os.ReadFile("../CHANGELOG.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$`).FindSubmatch(changelog)
	require.NotNil(t, m, "CHANGELOG.md has no released version")
	assert.Equal(t, string(m[1]), Version)
	assert.Regexp(t, `^\d+\.\d+\.\d+$`, Version)
}
