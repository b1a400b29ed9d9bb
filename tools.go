//go:build tools

package signintokens

// The code generator is pinned here so that go.mod records its version and
// `go generate` runs exactly that version.
import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
