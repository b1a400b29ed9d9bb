package clerktest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxControlBytes bounds a /_fake/ request's body.
const maxControlBytes = 64 << 10

// faultRequest is the body of POST /_fake/faults: the fields of
// Fault, for the next Next requests.
type faultRequest struct {
	Next            int               `json:"next"`
	Status          int               `json:"status"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	Delay           string            `json:"delay"`
	Drop            bool              `json:"drop"`
	AfterProcessing bool              `json:"after_processing"`
}

// rateLimitRequest is the body of POST /_fake/rate_limit: Requests per
// Window, as Clerk limits an instance; 0 requests turns the limit off.
type rateLimitRequest struct {
	Requests int    `json:"requests"`
	Window   string `json:"window"`
}

// ControlHandler serves the fake's control API, for test suites in any
// language (signintokens fake-server serves it beside /v1), each request
// with the fake's secret key as a bearer token:
//
//   - POST /_fake/faults {"next": N, "status": 503, "headers": {...},
//     "body": "...", "delay": "2s", "drop": false, "after_processing": false}:
//     FailNext(N, the Fault).
//   - POST /_fake/rate_limit {"requests": 100, "window": "10s"}: SetRateLimit;
//     0 requests turns the limit off.
//   - GET /_fake/sign_in_tokens: the tokens the fake holds, whatever their
//     answers said, without the credential: {"sign_in_tokens": [{"id",
//     "user_id", "status", "created_at"}]}.
func (f *Fake) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_fake/faults", func(w http.ResponseWriter, r *http.Request) {
		var req faultRequest
		if !decodeControl(w, r, &req) {
			return
		}
		flt, err := req.fault()
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		f.FailNext(req.Next, flt)
		controlOK(w)
	})
	mux.HandleFunc("POST /_fake/rate_limit", func(w http.ResponseWriter, r *http.Request) {
		var req rateLimitRequest
		if !decodeControl(w, r, &req) {
			return
		}
		n, window, err := req.limit()
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		f.SetRateLimit(n, window)
		controlOK(w)
	})
	mux.HandleFunc("GET /_fake/sign_in_tokens", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.heldTokens())
	})
	mux.HandleFunc("/_fake/", func(w http.ResponseWriter, _ *http.Request) {
		controlError(w, http.StatusNotFound, "no such control: POST /_fake/faults, POST /_fake/rate_limit or GET /_fake/sign_in_tokens")
	})
	want := []byte("Bearer " + f.SecretKey())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			controlError(w, http.StatusUnauthorized, "the control API needs the fake's secret key: Authorization: Bearer KEY")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// heldToken is one token GET /_fake/sign_in_tokens lists: what a test needs
// to check that a create took effect, without the credential itself.
type heldToken struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	Status    string `json:"status"`
	CreatedAt int64  `json:"created_at"`
}

// heldTokens is the body of GET /_fake/sign_in_tokens.
func (f *Fake) heldTokens() map[string][]heldToken {
	toks := f.SignInTokens()
	out := make([]heldToken, 0, len(toks))
	for _, t := range toks {
		out = append(out, heldToken{ID: t.ID, UserID: t.UserID, Status: string(t.Status), CreatedAt: t.CreatedAt})
	}
	return map[string][]heldToken{"sign_in_tokens": out}
}

// decodeControl decodes a control request's JSON body, refusing unknown
// fields; false means it has answered.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "the body is not the control's JSON: "+err.Error())
		return false
	}
	return true
}

func (req faultRequest) fault() (Fault, error) {
	flt := Fault{Status: req.Status, Body: req.Body, Drop: req.Drop, AfterProcessing: req.AfterProcessing}
	switch {
	case req.Next < 1:
		return flt, errors.New("next must be at least 1: the number of requests the fault answers")
	case req.Status != 0 && (req.Status < 100 || req.Status > 599):
		return flt, errors.New("status must be an HTTP status (100 to 599), or 0 to answer as usual")
	}
	if req.Delay != "" {
		d, err := time.ParseDuration(req.Delay)
		if err != nil || d < 0 {
			return flt, fmt.Errorf("delay must be a duration such as 2s: %q", req.Delay)
		}
		flt.Delay = d
	}
	if len(req.Headers) > 0 {
		flt.Header = http.Header{}
		for k, v := range req.Headers {
			flt.Header.Set(k, v)
		}
	}
	return flt, nil
}

func (req rateLimitRequest) limit() (int, time.Duration, error) {
	if req.Requests == 0 {
		return 0, 0, nil
	}
	window, err := time.ParseDuration(req.Window)
	if req.Requests < 0 || err != nil || window <= 0 {
		return 0, 0, errors.New(`want {"requests": N, "window": "10s"} with N at least 0 and a positive window`)
	}
	return req.Requests, window, nil
}

func controlOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{\"ok\":true}\n"))
}

func controlError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
