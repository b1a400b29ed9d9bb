package client

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkCreate rejects a create body that must not be sent.
func checkCreate(req CreateSignInTokenRequest) error {
	if err := checkText("user_id", req.UserID); err != nil {
		return err
	}
	if req.OrgID != nil {
		if *req.OrgID == "" {
			return invalid("org_id", "must not be empty when set")
		}
		if err := checkText("org_id", *req.OrgID); err != nil {
			return err
		}
	}
	if req.ExpiresInSeconds != nil && *req.ExpiresInSeconds < 1 {
		return invalid("expires_in_seconds", "must be at least 1")
	}
	return nil
}

// checkRevoke rejects a token ID that cannot stand as one path segment:
// URL resolution collapses "." and "..", and "/", "?" and "#" would change
// the path even if escaped, by a proxy that unescapes.
func checkRevoke(id string) error {
	const field = "sign_in_token_id"
	switch {
	case id == "." || id == "..":
		return invalid(field, `must not be "." or ".."`)
	case strings.ContainsAny(id, "/?#"):
		return invalid(field, `must not contain "/", "?" or "#"`)
	}
	return checkText(field, id)
}

// checkText rejects an ID that no Clerk ID can be: empty, invalid UTF-8, or
// holding whitespace or control characters.
func checkText(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "must not be empty")
	case !utf8.ValidString(s):
		return invalid(field, "must be valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return invalid(field, "must not contain whitespace or control characters")
	}
	return nil
}
