package client

import (
	"context"
	"log/slog"
	"time"
)

// log writes one record for one attempt. It never writes headers or bodies:
// they carry the secret key and the token; what it takes from the answer
// and the error is cleaned.
func (c *caller) log(ctx context.Context, a *answer, err error, attempt int, wait, took time.Duration, d retryDecision) {
	attrs := []slog.Attr{
		slog.String("method", a.req.Method),
		slog.String("path", a.req.URL.EscapedPath()),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
		slog.Duration("duration", took),
	}
	level := slog.LevelInfo
	if a.rsp != nil {
		attrs = append(attrs, slog.Int("status", a.rsp.StatusCode))
		if id := headerValue(a.rsp.Header, traceHeader); id != "" {
			attrs = append(attrs, slog.String("trace_id", oneLine(c.redact(id))))
		}
		if a.readErr != nil {
			err = a.readErr
		}
	}
	if err != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", oneLine(c.redact(err.Error()))))
	}
	if d.retry {
		attrs = append(attrs, slog.String("retry", d.reason), slog.Duration("next_wait", d.wait))
	}
	c.logger.LogAttrs(ctx, level, "clerk request", attrs...)
}
