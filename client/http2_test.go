package client

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HTTP/2 frame types and flags this peer uses (RFC 9113, section 6).
const (
	frameData, frameHeaders, frameRSTStream, frameSettings, framePing, frameGoAway, frameContinuation = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x9
	flagEndStream, flagAck, flagEndHeaders                                                            = 0x1, 0x1, 0x4
	errCodeNo, errCodeProtocol, errCodeRefusedStream                                                  = 0x0, 0x1, 0x7
)

// How resettingPeer turns a request away.
const (
	resetProtocol = iota // RST_STREAM PROTOCOL_ERROR, after reading it: it may have been processed
	refuseStream         // RST_STREAM REFUSED_STREAM: not processed (RFC 9113, 8.7)
	goAwayBelow          // GOAWAY NO_ERROR with a last-stream-id below it: not processed
)

// resettingPeer is an HTTP/2 server over TLS that reads each request to its
// end and then, for the first resets requests, resets the stream with
// PROTOCOL_ERROR, after which Go's HTTP/2 transport resends a request whose
// body it can rewind. Later requests get a 200 with a token.
type resettingPeer struct {
	server    *httptest.Server
	resets    int32 // how many requests are reset; -1: every one
	how       int   // resetProtocol, refuseStream or goAwayBelow
	read      atomic.Int32
	processed atomic.Int32 // requests answered with a token
}

func newResettingPeer(t *testing.T, resets int32, how int) *resettingPeer {
	t.Helper()
	p := &resettingPeer{resets: resets, how: how}
	p.server = httptest.NewUnstartedServer(http.NotFoundHandler())
	p.server.EnableHTTP2 = true
	p.server.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, c *tls.Conn, _ http.Handler) { p.serve(c) },
	}
	p.server.StartTLS()
	t.Cleanup(p.server.Close)
	return p
}

// serve speaks just enough HTTP/2 for one client: settings, pings, and
// requests, which it answers once each has ended.
func (p *resettingPeer) serve(c *tls.Conn) {
	defer c.Close()
	preface := make([]byte, len("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	if writeFrame(c, frameSettings, 0, 0, nil) != nil {
		return
	}
	for {
		typ, flags, stream, payload, err := readFrame(c)
		if err != nil {
			return
		}
		switch {
		case typ == frameSettings && flags&flagAck == 0:
			err = writeFrame(c, frameSettings, flagAck, 0, nil)
		case typ == framePing && flags&flagAck == 0:
			err = writeFrame(c, framePing, flagAck, 0, payload)
		case (typ == frameHeaders || typ == frameContinuation || typ == frameData) && flags&flagEndStream != 0:
			err = p.answer(c, stream)
		}
		if err != nil {
			return
		}
	}
}

// answer ends one request that was read to its end.
func (p *resettingPeer) answer(w io.Writer, stream uint32) error {
	n := p.read.Add(1)
	if p.resets < 0 || n <= p.resets {
		switch p.how {
		case refuseStream:
			return writeFrame(w, frameRSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, errCodeRefusedStream))
		case goAwayBelow:
			payload := binary.BigEndian.AppendUint32(nil, stream-min(stream, 2)) // the last stream it will process
			return writeFrame(w, frameGoAway, 0, 0, binary.BigEndian.AppendUint32(payload, errCodeNo))
		}
		return writeFrame(w, frameRSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, errCodeProtocol))
	}
	p.processed.Add(1)
	// HPACK: :status 200 (static index 8), then content-type (static name
	// index 31) as a literal without indexing.
	block := []byte{0x88, 0x0f, 0x10, byte(len("application/json"))}
	block = append(block, "application/json"...)
	if err := writeFrame(w, frameHeaders, flagEndHeaders, stream, block); err != nil {
		return err
	}
	return writeFrame(w, frameData, flagEndStream, stream, []byte(tokenJSON))
}

func readFrame(r io.Reader) (typ, flags byte, stream uint32, payload []byte, err error) {
	var h [9]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	payload = make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
	_, err = io.ReadFull(r, payload)
	return h[3], h[4], binary.BigEndian.Uint32(h[5:]) &^ (1 << 31), payload, err
}

func writeFrame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	n := len(payload)
	h := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags}
	h = binary.BigEndian.AppendUint32(h, stream)
	_, err := w.Write(append(h, payload...))
	return err
}

// Go's HTTP/2 transport resends a request after RST_STREAM PROTOCOL_ERROR
// when it can rewind the body. A create's body cannot be rewound: whether
// the peer resets once or every time, it reads the create once, and the
// error says that a token may have been made. A revoke is sent again and
// succeeds: by the transport (Go 1.26 resends a request without a body) or
// by the SDK's retry (Go 1.27 does not).
func TestClient_http2ResetSendsCreateOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		resets int32
		create bool
		read   int32
		ok     bool
	}{
		{"create, reset every time", -1, true, 1, false},
		{"create, reset once then 200", 1, true, 1, false},
		{"revoke, reset once then 200", 1, false, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newResettingPeer(t, tt.resets, resetProtocol)
			policy := RetryPolicy{} // a create that may have been sent is never retried anyway
			if !tt.create {
				policy = RetryPolicy{MaxRetries: 1, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}
			}
			c, err := New(WithSecretKey(testKey), WithServerURL(p.server.URL+"/v1"),
				WithHTTPClient(p.server.Client()), WithRetryPolicy(policy))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tt.create {
				_, err = c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
			} else {
				_, err = c.SignInTokens.Revoke(ctx, "sit_2aBcD")
			}
			assert.Equal(t, tt.read, p.read.Load(), "requests the peer read")
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMaybeCreated)
			assert.False(t, errors.Is(err, context.DeadlineExceeded), "the call ended by itself: %v", err)
			assertNoSecrets(t, err)
		})
	}
}

// A create whose stream the server says it did not process (RFC 9113,
// 8.7: REFUSED_STREAM, or a stream above a GOAWAY's last-stream-id) made
// no token: Go's transport cannot resend it (its body cannot be rewound),
// so the SDK does, and an error that ends such a call never says that a
// token may have been made.
func TestClient_http2NotProcessed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		how     int
		resets  int32
		retries int
		read    int32
		ok      bool
	}{
		{"REFUSED_STREAM once, then 200", refuseStream, 1, 1, 2, true},
		{"GOAWAY below it once, then 200", goAwayBelow, 1, 1, 2, true},
		{"REFUSED_STREAM every time, no retry", refuseStream, -1, 0, 1, false},
		{"GOAWAY below it every time, retries exhausted", goAwayBelow, -1, 1, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newResettingPeer(t, tt.resets, tt.how)
			policy := RetryPolicy{MaxRetries: tt.retries, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}
			hc := trackIdle(t, p.server.Client())
			c, err := New(WithSecretKey(testKey), WithServerURL(p.server.URL+"/v1"), WithHTTPClient(hc), WithRetryPolicy(policy))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.SignInTokens.Create(ctx, CreateSignInTokenRequest{UserID: "user_12345"})
			assert.Equal(t, tt.read, p.read.Load(), "requests the peer read")
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, "sit_2aBcD", res.SignInToken.ID)
				assert.Equal(t, int32(1), p.processed.Load(), "tokens made")
				return
			}
			require.Error(t, err)
			assert.Zero(t, p.processed.Load(), "tokens made")
			assert.NotErrorIs(t, err, ErrMaybeCreated)
			assert.NotContains(t, err.Error(), "may have made")
			assertNoSecrets(t, err)
		})
	}
}

// errorDoer fails every request with a *url.Error holding text.
type errorDoer struct{ text string }

func (d errorDoer) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
	}
	return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: errors.New(d.text)}
}

// Only Go's own words for "not processed", from Go's own transport, let a
// create go again: not a PROTOCOL_ERROR reset (Go 1.26 calls it retryable,
// but the server may have processed it), not a refusal made by the client,
// and not the same text from a doer the SDK does not know.
func TestHTTP2NotProcessed_text(t *testing.T) {
	t.Parallel()
	const pre, post = "http2: Transport: cannot retry err [", "] after Request.Body was written; define Request.GetBody to avoid this error"
	tests := map[string]bool{
		pre + "stream error: stream ID 3; REFUSED_STREAM; received from peer" + post:       true,
		pre + "http2: Transport received Server's graceful shutdown GOAWAY" + post:         true,
		pre + "stream error: stream ID 3; PROTOCOL_ERROR; received from peer" + post:       false,
		pre + "stream error: stream ID 3; REFUSED_STREAM" + post:                           false,
		pre + "stream error: stream ID x; REFUSED_STREAM; received from peer" + post:       false,
		"stream error: stream ID 3; REFUSED_STREAM; received from peer":                    false,
		pre + "http2: Transport received GOAWAY from server ErrCode:PROTOCOL_ERROR" + post: false,
	}
	for text, want := range tests {
		assert.Equal(t, want, http2NotProcessed(&url.Error{Op: "Post", URL: "u", Err: errors.New(text)}), text)
	}
	w := &waits{}
	c, err := New(WithSecretKey(testKey), WithServerURL("https://api.clerk.test/v1"), withClock(testClock(w)),
		WithHTTPClient(errorDoer{pre + "stream error: stream ID 3; REFUSED_STREAM; received from peer" + post}))
	require.NoError(t, err)
	_, err = c.SignInTokens.Create(context.Background(), CreateSignInTokenRequest{UserID: "user_12345"})
	assert.ErrorIs(t, err, ErrMaybeCreated, "a doer the SDK does not know")
	assert.Empty(t, w.all(), "not sent again")
}
