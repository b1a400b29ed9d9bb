// Package gen holds the models, the raw HTTP client and the server interfaces
// that oapi-codegen generates from openapi.yaml at the root of this module.
//
// Nothing here is written by hand: edit openapi.yaml or oapi-codegen.yaml and
// run `go generate ./...` (or `make generate`). Most users want package client,
// which wraps this one with input checks, typed errors and retries.
package gen
