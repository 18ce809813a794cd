// Package telemetry sets up a process's logging and tracing: JSON logs with
// log/slog, and OpenTelemetry traces exported as the standard OTEL_* variables
// say — off unless OTEL_TRACES_EXPORTER (or an OTLP endpoint) is set.
package telemetry

import (
	"context"
	"io"
	"log/slog"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventplane/eventplane/consumers/logging"
	"github.com/eventplane/eventplane/consumers/tracing"
)

// Logger is logging.New: a JSON logger at level ("debug", "info", "warn",
// "error").
func Logger(w io.Writer, level string) (*slog.Logger, error) { return logging.New(w, level) }

// Propagator is tracing.Propagator.
func Propagator() propagation.TextMapPropagator { return tracing.Propagator() }

// Provider is tracing.Provider.
type Provider = tracing.Provider

// Tracing is tracing.Start with the exporter OTEL_TRACES_EXPORTER names
// (autoexport: otlp over gRPC or HTTP, console, ...).
func Tracing(ctx context.Context, getenv func(string) string) (Provider, func(context.Context) error, error) {
	return tracing.Start(ctx, getenv, func(ctx context.Context) (sdktrace.SpanExporter, error) { return autoexport.NewSpanExporter(ctx) })
}
