// Package logging builds the JSON log/slog logger every eventplane binary
// writes with, from the level its --log-level flag names. It links nothing
// but the standard library, so the operator and the Lambdas share it
// without the telemetry package's exporters.
package logging

import (
	"fmt"
	"io"
	"log/slog"
)

// New returns a JSON logger writing to w at level ("debug", "info", "warn"
// or "error"). Each line has time, level (DEBUG, INFO, WARN or ERROR) and
// msg. Finer levels than debug (logr's V(2) and up, which controller-runtime
// and client-go write through logr.FromSlogHandler as slog levels below
// DEBUG, e.g. "DEBUG+2") are written as DEBUG, so every line carries one of
// the four levels --log-level names.
func New(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: fourLevels})), nil
}

func fourLevels(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if lv, ok := a.Value.Any().(slog.Level); ok && lv < slog.LevelInfo {
			return slog.String(slog.LevelKey, slog.LevelDebug.String())
		}
	}
	return a
}
