// Package clilog builds the loggers mochi's commands write to stderr: plain text, or the
// reference CLI's JSON event lines (`--log-format json`), with secrets masked in both.
package clilog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Options configure a logger.
type Options struct {
	// Format is "text" (default) or "json".
	Format string
	// Level is "info" (default), "debug" or "trace".
	Level string
	// Secrets are replaced by ******** wherever they appear in a message.
	Secrets []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LevelTrace is below slog.LevelDebug, for the reference CLI's "trace" level.
const LevelTrace = slog.Level(-8)

// ParseLevel maps the reference CLI's --log-level values to slog levels.
func ParseLevel(s string) (slog.Level, error) {
	switch s {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "trace":
		return LevelTrace, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want info, debug or trace)", s)
}

// New returns a logger writing to w.
func New(w io.Writer, o Options) (*slog.Logger, error) {
	lvl, err := ParseLevel(o.Level)
	if err != nil {
		return nil, err
	}
	switch o.Format {
	case "", "text", "json":
	default:
		return nil, fmt.Errorf("unknown log format %q (want text or json)", o.Format)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	h := &handler{w: w, mu: &sync.Mutex{}, json: o.Format == "json", level: lvl, now: now, mask: masker(o.Secrets)}
	return slog.New(h), nil
}

func masker(secrets []string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "********")
		}
	}
	if len(pairs) == 0 {
		return func(s string) string { return s }
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

type handler struct {
	w     io.Writer
	mu    *sync.Mutex
	json  bool
	level slog.Level
	now   func() time.Time
	mask  func(string) string
	attrs []slog.Attr
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *handler) WithGroup(string) slog.Handler { return h }

// refLevel maps slog levels to the reference's numeric levels (1 trace .. 5 error).
func refLevel(l slog.Level) int {
	switch {
	case l < slog.LevelDebug:
		return 1
	case l < slog.LevelInfo:
		return 2
	case l < slog.LevelWarn:
		return 3
	case l < slog.LevelError:
		return 4
	}
	return 5
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		if a.Key == "component" || a.Key == "workspace" {
			return true
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	text := h.mask(b.String())
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.json {
		ts := h.now().Format("[2006-01-02T15:04:05.000Z]")
		_, err := fmt.Fprintf(h.w, "%s %s\n", ts, text)
		return err
	}
	ev := map[string]any{"type": "text", "level": refLevel(r.Level), "timestamp": h.now().UnixMilli(), "text": text}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = h.w.Write(append(line, '\n'))
	return err
}

// RawWriter returns a writer for raw process output (build logs, hook output) that masks
// secrets and, in JSON mode, wraps each write as a {"type":"raw"} event.
func RawWriter(w io.Writer, o Options) io.Writer {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &rawWriter{w: w, json: o.Format == "json", now: now, mask: masker(o.Secrets)}
}

type rawWriter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	now  func() time.Time
	mask func(string) string
}

func (r *rawWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := r.mask(string(p))
	if !r.json {
		_, err := io.WriteString(r.w, text)
		return len(p), err
	}
	line, err := json.Marshal(map[string]any{"type": "raw", "level": 3, "timestamp": r.now().UnixMilli(), "text": text})
	if err != nil {
		return 0, err
	}
	_, err = r.w.Write(append(line, '\n'))
	return len(p), err
}
