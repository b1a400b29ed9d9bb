package idinput

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2<<20)
	journal := `{"journal":"signintokens","version":1,"kind":"create"}` + "\n" +
		`{"user_id":"u1","seq":1,"line":1,"sending":true}` + "\n" +
		`{"user_id":"u1","seq":2,"line":1,"id":"sit_1"}` + "\n" +
		`{"user_id":"u2","seq":3,"line":2,"error":{"kind":"api","message":"x"}}` + "\n" +
		`{"user_id":"u3","seq":4,"line":3,"id":"sit_3"}` + "\n" + `{"user_id":"u4","se`
	tests := []struct {
		name, in, column string
		want             []ID
	}{
		{"lines", "# c\nuser_1\n\n  user_2  \n# end", "user_id", []ID{{"user_1", 2}, {"user_2", 4}}},
		{"no final newline", "user_1\nuser_2", "user_id", []ID{{"user_1", 1}, {"user_2", 2}}},
		{"header only column", "user_id\nuser_1\nuser_2\n", "user_id", []ID{{"user_1", 2}, {"user_2", 3}}},
		{"csv", "email,user_id\na@x,user_1\n# skipped\nb@x,user_2\nc@x,\n", "user_id", []ID{{"user_1", 2}, {"user_2", 4}}},
		{"csv after a comment", "# export\nemail,user_id\na@x,user_1\n", "user_id", []ID{{"user_1", 3}}},
		{"csv quoted", "\"user_id\",name\n\"user_1\",\"A, B\"\n", "user_id", []ID{{"user_1", 2}}},
		{"csv semicolons", "email;user_id\na@x;user_1\n", "user_id", []ID{{"user_1", 2}}},
		{"bom", "\ufeffuser_1\nuser_2\n", "user_id", []ID{{"user_1", 1}, {"user_2", 2}}},
		{"bom csv", "\ufeffuser_id,email\nuser_1,a@x\n", "user_id", []ID{{"user_1", 2}}},
		{"crlf", "user_1\r\nuser_2\r\n", "user_id", []ID{{"user_1", 1}, {"user_2", 2}}},
		{"long line", long + "\nuser_1\n", "user_id", []ID{{long, 1}, {"user_1", 2}}},
		{"empty", "", "user_id", nil},
		{"comments only", "# nothing\n\n", "user_id", nil},
		{"a create journal's tokens, its cut last line passed over", journal, "sign_in_token_id", []ID{{"sit_1", 3}, {"sit_3", 5}}},
	}
	for _, tt := range tests {
		in, err := New(strings.NewReader(tt.in), tt.column, "create")
		require.NoError(t, err, tt.name)
		var got []ID
		for id, err := in.Next(); err == nil; id, err = in.Next() {
			got = append(got, id)
		}
		assert.Equal(t, tt.want, got, tt.name)
	}
}

// An input it cannot read is refused before any ID is given, with a
// sentence that says why.
func TestReader_refuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, journalKind, want string
	}{
		{"utf-16", "\xff\xfeu\x00", "create", "UTF-16"},
		{"a csv without the column", "email;name\na;b\n", "create", "has no user_id column"},
		{"a journal where none is read", `{"journal":"signintokens","version":1,"kind":"create"}` + "\n", "", "give it to --journal"},
		{"a journal of another kind", `{"journal":"signintokens","version":1,"kind":"revoke"}` + "\n", "create", "it is a revoke journal"},
		{"JSON that is no journal", `{"a":1}` + "\n", "create", "not a signintokens journal line"},
	}
	for _, tt := range tests {
		_, err := New(strings.NewReader(tt.in), "user_id", tt.journalKind)
		if assert.Error(t, err, tt.name) {
			assert.Contains(t, err.Error(), tt.want, tt.name)
		}
	}
	_, err := Count(writeFile(t, "user_1\nus\x00er_2\n"), "user_id", "")
	assert.ErrorContains(t, err, "line 2 holds a NUL byte")
}

func TestCount(t *testing.T) {
	t.Parallel()
	n, err := Count(writeFile(t, "# users\nuser_1\n\nuser_2\nuser_1\n"), "user_id", "")
	require.NoError(t, err)
	assert.Equal(t, 3, n, "every ID, duplicates included")
	n, err = Count("-", "user_id", "")
	require.NoError(t, err)
	assert.Equal(t, -1, n, "stdin cannot be read twice")
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}
