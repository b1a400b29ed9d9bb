package clerktest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/gen"
)

// DefaultExpiresInSeconds is the lifetime of a token created without
// expires_in_seconds: 30 days, as on Clerk.
const DefaultExpiresInSeconds = 30 * 24 * 60 * 60

// Fake is an in-memory Clerk Backend API for the two sign-in token
// operations. It is an http.Handler that serves them under /v1, like
// https://api.clerk.com/v1, and is safe for concurrent use.
//
// Tokens are created pending. A token past its expiry stays pending, since
// Clerk's status enum has no expired state, and can still be revoked; Accept
// refuses it, as a sign-in with it would fail.
type Fake struct {
	secretKey string
	now       func() time.Time
	handler   http.Handler

	log      io.Writer // nil: no log
	inMemory bool      // NewServer serves over an in-memory network

	mu           sync.Mutex
	users        map[string]bool
	anyUser      bool
	tokens       map[string]*token
	requests     []*Request
	requestLimit int
	faults       []fault
	limit        rateLimit
}

type token struct {
	gen.SignInToken
	expiresAt time.Time
}

// An Option configures a Fake.
type Option func(*Fake)

// WithSecretKey sets the key that requests must bear. Default: a random
// sk_test_ key, readable with SecretKey.
func WithSecretKey(key string) Option { return func(f *Fake) { f.secretKey = key } }

// WithUsers makes users with these IDs exist. Default: no users.
func WithUsers(ids ...string) Option {
	return func(f *Fake) {
		for _, id := range ids {
			f.users[id] = true
		}
	}
}

// WithAnyUser makes every user ID that starts with "user_" exist. Default:
// only users added with WithUsers or AddUser.
func WithAnyUser() Option { return func(f *Fake) { f.anyUser = true } }

// WithInMemoryNetwork makes NewServer and StartServer serve the fake over an
// in-memory network instead of a loopback socket; Server.Client and
// Server.HTTPClient reach it there. Inside testing/synctest's Test, on Go
// 1.26 and later, fake time then advances while a call waits on the fake: a
// 429 with Retry-After: 3 and the client's retry take 3 s of fake time and
// no real time. Default: a loopback socket.
func WithInMemoryNetwork() Option { return func(f *Fake) { f.inMemory = true } }

// WithClock sets the clock for created_at, updated_at and expiry. Default:
// time.Now.
func WithClock(now func() time.Time) Option { return func(f *Fake) { f.now = now } }

// WithRequestLimit sets how many of the latest requests Requests returns;
// older ones are forgotten, so that a long-running fake stays small. 0 keeps
// none. Default: DefaultRequestLimit.
func WithRequestLimit(n int) Option { return func(f *Fake) { f.requestLimit = n } }

// WithLog writes a line per request to w once it is answered: the time,
// method, path, status, duration and trace ID; never headers or bodies.
// Default: no log.
func WithLog(w io.Writer) Option { return func(f *Fake) { f.log = w } }

// New returns a Fake configured by opts.
func New(opts ...Option) *Fake {
	f := &Fake{
		secretKey:    "sk_test_" + randomHex(16),
		now:          time.Now,
		users:        map[string]bool{},
		tokens:       map[string]*token{},
		requestLimit: DefaultRequestLimit,
	}
	for _, opt := range opts {
		opt(f)
	}
	f.handler = f.routes()
	return f
}

// SecretKey returns the key that requests must bear.
func (f *Fake) SecretKey() string { return f.secretKey }

// ServeHTTP answers one request as Clerk would.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.handler.ServeHTTP(w, r) }

// AddUser makes a user with this ID exist.
func (f *Fake) AddUser(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = true
}

// SignInToken returns the sign-in token with this ID as it is now, and
// whether it exists.
func (f *Fake) SignInToken(id string) (client.SignInToken, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[id]
	if !ok {
		return client.SignInToken{}, false
	}
	return t.SignInToken, true
}

// SignInTokens returns every sign-in token the fake holds, in no
// particular order.
func (f *Fake) SignInTokens() []client.SignInToken {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]client.SignInToken, 0, len(f.tokens))
	for _, t := range f.tokens {
		out = append(out, t.SignInToken)
	}
	return out
}

// AcceptSignInToken marks a pending sign-in token accepted, as a user
// signing in with it would. It fails for an unknown, expired or no longer
// pending token.
func (f *Fake) AcceptSignInToken(tokenID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[tokenID]
	switch {
	case !ok:
		return fmt.Errorf("clerktest: no sign-in token %q", tokenID)
	case t.Status != gen.SignInTokenStatusPending:
		return fmt.Errorf("clerktest: sign-in token %q is %s, not pending", tokenID, t.Status)
	case !f.now().Before(t.expiresAt):
		return fmt.Errorf("clerktest: sign-in token %q has expired", tokenID)
	}
	t.Status = gen.SignInTokenStatusAccepted
	t.UpdatedAt = f.now().UnixMilli()
	return nil
}

// Token is SignInToken.
//
// Deprecated: use SignInToken; the fake may hold more kinds of token.
func (f *Fake) Token(id string) (client.SignInToken, bool) { return f.SignInToken(id) }

// Tokens is SignInTokens.
//
// Deprecated: use SignInTokens; the fake may hold more kinds of token.
func (f *Fake) Tokens() []client.SignInToken { return f.SignInTokens() }

// Accept is AcceptSignInToken.
//
// Deprecated: use AcceptSignInToken; the fake may hold more kinds of token.
func (f *Fake) Accept(tokenID string) error { return f.AcceptSignInToken(tokenID) }

// maxExpiresIn is the longest lifetime the fake gives a token: about 292
// years, the longest a time.Duration holds. A longer expires_in_seconds is
// cut to it rather than overflowing into an expiry in the past.
const maxExpiresIn = int64(1<<63-1) / int64(time.Second)

// createToken stores a new pending token for a user that exists. Like
// Clerk, it gives created_at and updated_at in Unix milliseconds.
func (f *Fake) createToken(userID string, expiresIn int64, baseURL string) gen.SignInToken {
	now := f.now()
	expiresIn = min(expiresIn, maxExpiresIn)
	id := "sit_" + randomHex(12)
	jwt := f.jwt(id, userID, now, expiresIn)
	u := baseURL + "/v1/tickets/accept?ticket=" + jwt
	t := &token{
		SignInToken: gen.SignInToken{
			Object:    gen.SignInTokenObjectSignInToken,
			ID:        id,
			Status:    gen.SignInTokenStatusPending,
			UserID:    userID,
			Token:     &jwt,
			URL:       &u,
			CreatedAt: now.UnixMilli(),
			UpdatedAt: now.UnixMilli(),
		},
		expiresAt: now.Add(time.Duration(expiresIn) * time.Second),
	}
	f.mu.Lock()
	f.tokens[id] = t
	f.mu.Unlock()
	return t.SignInToken
}

// jwt returns a JWT-shaped ticket, signed with the fake's key (HS256). Its
// iat and exp claims are in seconds, as JWT's are.
func (f *Fake) jwt(id, userID string, now time.Time, expiresIn int64) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"sid": id, "sub": userID, "iat": now.Unix(), "exp": now.Unix() + expiresIn})
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(f.secretKey))
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

func (f *Fake) userExists(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[id] || (f.anyUser && strings.HasPrefix(id, "user_") && len(id) > len("user_"))
}

// revoke revokes a pending token; it reports whether the token exists and
// whether it was pending.
func (f *Fake) revoke(id string) (gen.SignInToken, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tokens[id]
	if !ok {
		return gen.SignInToken{}, false, false
	}
	if t.Status != gen.SignInTokenStatusPending {
		return t.SignInToken, true, false
	}
	t.Status = gen.SignInTokenStatusRevoked
	t.UpdatedAt = f.now().UnixMilli()
	return t.SignInToken, true, true
}

// server implements the generated strict-server interface over a Fake.
type server struct{ f *Fake }

var _ gen.StrictServerInterface = server{}

func (s server) CreateSignInToken(ctx context.Context, req gen.CreateSignInTokenRequestObject) (gen.CreateSignInTokenResponseObject, error) {
	trace := traceFrom(ctx)
	if req.Body == nil || req.Body.UserID == "" {
		return gen.CreateSignInToken422JSONResponse{UnprocessableEntityJSONResponse: gen.UnprocessableEntityJSONResponse(
			clerkErrors(trace, "form_param_missing", "is missing", "user_id must be included.", "user_id"))}, nil
	}
	body := req.Body
	if !s.f.userExists(body.UserID) {
		return gen.CreateSignInToken404JSONResponse{ResourceNotFoundJSONResponse: gen.ResourceNotFoundJSONResponse(
			clerkErrors(trace, "resource_not_found", "not found", "Resource not found", ""))}, nil
	}
	if body.OrgID != nil && *body.OrgID == "" {
		return gen.CreateSignInToken422JSONResponse{UnprocessableEntityJSONResponse: gen.UnprocessableEntityJSONResponse(
			clerkErrors(trace, "form_param_value_invalid", "is invalid", "org_id must not be empty.", "org_id"))}, nil
	}
	expiresIn := int64(DefaultExpiresInSeconds)
	if body.ExpiresInSeconds != nil {
		expiresIn = *body.ExpiresInSeconds
	}
	tok := s.f.createToken(body.UserID, expiresIn, baseURLFrom(ctx))
	return gen.CreateSignInToken200JSONResponse{SignInTokenJSONResponse: gen.SignInTokenJSONResponse(tok)}, nil
}

func (s server) RevokeSignInToken(ctx context.Context, req gen.RevokeSignInTokenRequestObject) (gen.RevokeSignInTokenResponseObject, error) {
	trace := traceFrom(ctx)
	tok, found, revoked := s.f.revoke(req.SignInTokenID)
	switch {
	case !found:
		return gen.RevokeSignInToken404JSONResponse{ResourceNotFoundJSONResponse: gen.ResourceNotFoundJSONResponse(
			clerkErrors(trace, "resource_not_found", "not found", "Resource not found", ""))}, nil
	case !revoked:
		return gen.RevokeSignInToken400JSONResponse{ClerkErrorsJSONResponse: gen.ClerkErrorsJSONResponse(
			clerkErrors(trace, "sign_in_token_cannot_be_revoked_code", "cannot revoke",
				"Sign in token cannot be revoked because its status is "+string(tok.Status)+". Only pending tokens can be revoked.", ""))}, nil
	}
	tok.Token = nil // Clerk returns the token itself only on create
	return gen.RevokeSignInToken200JSONResponse{SignInTokenJSONResponse: gen.SignInTokenJSONResponse(tok)}, nil
}

// clerkErrors builds a Clerk error body with one error.
func clerkErrors(trace, code, message, long, param string) gen.ClerkErrors {
	e := gen.ClerkError{Code: code, Message: message, LongMessage: long}
	if param != "" {
		e.Meta = map[string]any{"param_name": param}
	}
	return gen.ClerkErrors{Errors: []gen.ClerkError{e}, ClerkTraceID: &trace}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
