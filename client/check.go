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
// holding whitespace or control characters. It runs on every call, so ASCII
// takes a fast path.
func checkText(field, s string) error {
	if s == "" {
		return invalid(field, "must not be empty")
	}
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			// The ASCII whitespace and control characters.
			if b <= ' ' || b == 0x7f {
				return invalid(field, "must not contain whitespace or control characters")
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return invalid(field, "must be valid UTF-8")
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return invalid(field, "must not contain whitespace or control characters")
		}
		i += n
	}
	return nil
}
