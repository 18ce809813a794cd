// Package telemetry sets up a process's logging and tracing: JSON logs with
// log/slog, and OpenTelemetry traces exported as the standard OTEL_* variables
// say — off unless OTEL_TRACES_EXPORTER (or an OTLP endpoint) is set.
package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Logger returns a JSON logger at level ("debug", "info", "warn", "error").
func Logger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Propagator reads and writes the trace context in the formats the platform
// meets: W3C traceparent (HTTP, SNS and SQS message attributes), baggage and
// the X-Ray header (X-Amzn-Trace-Id on AWS requests).
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}, xray.Propagator{})
}

// Provider is a tracer provider that can be flushed (the Lambda mains flush
// it before each invocation returns).
type Provider interface {
	trace.TracerProvider
	ForceFlush(context.Context) error
}

// Tracing returns a tracer provider configured from the environment and a
// function that flushes and stops it. Without OTEL_TRACES_EXPORTER,
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, tracing
// is off (a no-op provider). With EVENTPLANE_TRACE_IDS=xray, trace ids are
// made by the X-Ray ID generator (the first 4 bytes are the epoch seconds),
// which X-Ray requires of the traces it accepts: set it when the exporter's
// target is X-Ray (the ADOT collector's awsxray exporter, or X-Ray's OTLP
// endpoint).
func Tracing(ctx context.Context, getenv func(string) string) (Provider, func(context.Context) error, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("OTEL_TRACES_EXPORTER") == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" &&
		getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return noopProvider{noop.NewTracerProvider()}, func(context.Context) error { return nil }, nil
	}
	var opts []sdktrace.TracerProviderOption
	switch ids := getenv("EVENTPLANE_TRACE_IDS"); ids {
	case "", "w3c":
	case "xray":
		opts = append(opts, sdktrace.WithIDGenerator(xray.NewIDGenerator()))
	default:
		return nil, nil, fmt.Errorf("tracing: EVENTPLANE_TRACE_IDS=%q: want w3c or xray", ids)
	}
	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithBatcher(exp))...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator())
	return tp, tp.Shutdown, nil
}

type noopProvider struct{ noop.TracerProvider }

func (noopProvider) ForceFlush(context.Context) error { return nil }
