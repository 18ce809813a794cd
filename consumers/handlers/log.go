package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// LogOptions configure the log handler.
type LogOptions struct {
	// Level is the slog level of the line (default info).
	Level string `json:"level,omitempty"`
	// Data includes the event data in the line.
	Data bool `json:"data,omitempty"`
}

// newLog builds the "log" handler: it writes one structured line per event
// (id, type, source, subject, trace). Useful to watch a route before giving
// it a real sink.
func newLog(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o LogOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	var level slog.Level
	if o.Level != "" {
		if err := level.UnmarshalText([]byte(o.Level)); err != nil {
			return nil, fmt.Errorf("options.level: %w", err)
		}
	}
	log := deps.Logger
	if log == nil {
		log = slog.Default()
	}
	return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
		attrs := []any{"event_id", e.ID(), "event_type", e.Type(), "event_source", e.Source()}
		if s := e.Subject(); s != "" {
			attrs = append(attrs, "event_subject", s)
		}
		if tp, ok := e.Extensions()["traceparent"].(string); ok {
			attrs = append(attrs, "traceparent", tp)
		}
		if o.Data {
			attrs = append(attrs, "data", string(e.Data()))
		}
		log.Log(ctx, level, "event", attrs...)
		return nil
	}), nil
}
