package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Operations the template cannot make calls of are refused, before the
// generator runs, with a sentence naming each; the project's document
// passes. (The answer to the question "does a GET with a query parameter
// generate?": no, go generate refuses it, here.) The examples' paths are
// ones no operation will have, so that adding Clerk's own (a GET
// /invitations, its allOf revoke) leaves this test as it was.
func TestCheck(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "openapi.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name, paths, schemas string
		want                 []string
	}{
		{"openapi.yaml itself", "", "", nil},
		{"marks typedef.tmpl cannot follow", "", `
    ScratchExample:
      type: object
      properties:
        a: {type: integer, x-secret: true}
        b: {type: string, x-secret: yes please}
        c: {type: string, x-unix-millis: Created}
        d: {type: integer, x-unix-millis: created}`, []string{
			"schema ScratchExample, property a: x-secret is on a property that is not a string",
			"schema ScratchExample, property b: x-secret is yes please: it is true",
			"schema ScratchExample, property c: x-unix-millis is on a property that is not an integer",
			"schema ScratchExample, property d: x-unix-millis is created: it names the exported method",
		}},
		{"a GET with a query parameter", `
  /scratch_examples:
    get:
      operationId: ListScratchExamples
      parameters:
        - name: status
          in: query
          schema: {type: string}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/SignInToken"}
`, "", []string{`get /scratch_examples (ListScratchExamples): it has a query parameter, "status"`}},
		{"an inline allOf answer", `
  /scratch_examples/{scratch_example_id}/revoke:
    post:
      operationId: RevokeScratchExample
      x-idempotent: true
      parameters:
        - name: scratch_example_id
          in: path
          required: true
          schema: {type: string}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/SignInToken"}
`, "", []string{"post /scratch_examples/{scratch_example_id}/revoke (RevokeScratchExample): its 200 answer's schema is given inline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			scratch := strings.Replace(string(doc), "\npaths:\n", "\npaths:"+tt.paths+"\n", 1)
			scratch = strings.Replace(scratch, "\n  schemas:\n", "\n  schemas:"+tt.schemas+"\n", 1)
			path := filepath.Join(t.TempDir(), "openapi.yaml")
			require.NoError(t, os.WriteFile(path, []byte(scratch), 0o600))
			problems, err := check(path)
			require.NoError(t, err)
			require.Len(t, problems, len(tt.want), "%q", problems)
			for i, w := range tt.want {
				assert.Contains(t, strings.ToLower(problems[i]), strings.ToLower(w))
			}
		})
	}
}
