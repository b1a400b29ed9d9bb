// Package gen holds the models, the raw HTTP client and the server interfaces
// that oapi-codegen generates from openapi.yaml at the root of this module,
// and, for each operation, its descriptor (gen.CreateSignInTokenOperation),
// its input checks (gen.PrepareCreateSignInToken) and gen.Operations(): those
// come from this project's block at the end of templates/client.tmpl, after
// its marker line (CONTRIBUTING.md, "What gen holds for each operation").
//
// Nothing here but this file is written by hand: edit openapi.yaml,
// oapi-codegen.yaml or the template, and run `go generate ./...` (or `make
// generate`). Most users want package client, which wraps this one with input
// checks, typed errors and retries.
package gen
