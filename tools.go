package signintokens

// The tools this module runs. The code generator is pinned by the tool line
// in go.mod, so `go generate ./...` runs exactly that version, and it stays
// out of the module graph of every program that imports this module: a tool
// line, unlike a blank import in a build-tagged file, is not read by the go
// command of a module that requires this one.
//
// Package gen is generated from openapi.yaml, configured by oapi-codegen.yaml,
// once internal/speccheck has refused, naming it, any operation the
// template cannot make calls of.
//go:generate go run ./internal/speccheck openapi.yaml
//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
