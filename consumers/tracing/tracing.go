// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// variables with an exporter the caller chooses. The consumer and the Lambda
// functions use OTLPHTTP (OTLP over HTTP/protobuf, the protocol ADOT's
// collector and X-Ray's OTLP endpoint accept) so they link one exporter, not
// every exporter autoexport knows (gRPC, Prometheus, console): autoexport
// made the consumer's binary 3 MB larger (unstripped, 38 -> 35 MB).
package tracing

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

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

// Exporter makes the span exporter once tracing is on.
type Exporter func(context.Context) (sdktrace.SpanExporter, error)

// OTLPHTTP is the OTLP/HTTP exporter, configured by the standard
// OTEL_EXPORTER_OTLP_* variables (otlptracehttp reads them). It refuses a
// configuration it would silently ignore: another OTEL_TRACES_EXPORTER or
// OTEL_EXPORTER_OTLP_PROTOCOL than otlp over http/protobuf.
func OTLPHTTP(getenv func(string) string) Exporter {
	return func(ctx context.Context) (sdktrace.SpanExporter, error) {
		if e := getenv("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
			return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: this program exports traces with otlp (http/protobuf) only", e)
		}
		for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
			if p := getenv(k); p != "" && p != "http/protobuf" {
				return nil, fmt.Errorf("%s=%q: this program exports traces with http/protobuf only", k, p)
			}
		}
		return otlptracehttp.New(ctx)
	}
}

// Start returns a tracer provider configured from the environment and a
// function that flushes and stops it. Without OTEL_TRACES_EXPORTER,
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or with
// OTEL_TRACES_EXPORTER=none, tracing is off (a no-op provider). With
// EVENTPLANE_TRACE_IDS=xray, trace ids are made by the X-Ray ID generator
// (the first 4 bytes are the epoch seconds), which X-Ray requires of the
// traces it accepts: set it when the exporter's target is X-Ray (the ADOT
// collector's awsxray exporter, or X-Ray's OTLP endpoint).
func Start(ctx context.Context, getenv func(string) string, exporter Exporter) (Provider, func(context.Context) error, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if getenv("OTEL_TRACES_EXPORTER") == "none" || getenv("OTEL_TRACES_EXPORTER") == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" &&
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
	exp, err := exporter(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	// The SDK's batch span processor (configured by OTEL_BSP_*), with ended
	// spans handed to it in bursts (handoff.go).
	tp := sdktrace.NewTracerProvider(append(opts, sdktrace.WithSpanProcessor(newHandoff(sdktrace.NewBatchSpanProcessor(exp), getenv)))...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator())
	return tp, tp.Shutdown, nil
}

type noopProvider struct{ noop.TracerProvider }

func (noopProvider) ForceFlush(context.Context) error { return nil }
