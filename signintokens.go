// Package signintokens is the root of a Go SDK for the sign-in token
// endpoints of Clerk's Backend API. It holds the OpenAPI document that
// everything else is generated from or checked against.
//
// The SDK itself is package client:
//
//	c, err := client.New(client.WithSecretKey(os.Getenv("CLERK_SECRET_KEY")))
//	res, err := c.SignInTokens.Create(ctx, client.CreateSignInTokenRequest{UserID: "user_123"})
//
// Package clerktest is a fake Clerk server for tests, and cmd/signintokens a
// command-line tool.
package signintokens

import _ "embed"

// OpenAPI is the OpenAPI 3.0 document (YAML) that describes the two
// operations, exactly as the module was generated from it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// APIVersion is the Clerk API version the document describes. The client
// sends it in the Clerk-API-Version header of every request.
const APIVersion = "2026-05-12"
