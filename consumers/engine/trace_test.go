package engine_test

import (
	"context"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/memqueue"
)

// One span per message and route, continuing the upstream trace from a W3C
// traceparent attribute or from the X-Ray AWSTraceHeader.
func TestSpansContinueUpstreamTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := start(t, memqueue.Config{}, engine.Options{Tracer: tp,
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil }))})
	send(t, h.q, `{"specversion":"1.0","id":"1","source":"s","type":"t.v1"}`,
		map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	eventually(t, 5*time.Second, "span ended", func() bool { return len(rec.Ended()) == 1 })
	s := rec.Ended()[0]
	if s.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent().SpanID().String() != "00f067aa0ba902b7" {
		t.Fatalf("span trace %s parent %s: did not continue the traceparent", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	if s.Name() != "process all" {
		t.Errorf("span name %q", s.Name())
	}
	attrs := map[string]string{}
	for _, a := range s.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs["cloudevents.event_id"] != "1" || attrs["eventplane.route"] != "all" || attrs["messaging.system"] != "aws_sqs" {
		t.Errorf("span attributes %v", attrs)
	}
}

// The debug page's recent events show the trace of their handler span and
// the event's source as it was sent.
func TestDebugRecentShowsTraceAndSource(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := start(t, memqueue.Config{}, engine.Options{Tracer: tp,
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil }))})
	send(t, h.q, `{"specversion":"1.0","id":"1","source":"https://shop.example.com/orders?region=eu","type":"t.v1"}`, nil)
	eventually(t, 5*time.Second, "event recorded", func() bool { return len(h.eng.Snapshot().Recent) == 1 && len(rec.Ended()) == 1 })
	r := h.eng.Snapshot().Recent[0]
	if want := rec.Ended()[0].SpanContext().TraceID().String(); r.TraceID != want {
		t.Errorf("recent event trace %q, want the span's %q", r.TraceID, want)
	}
	if r.Source != "https://shop.example.com/orders?region=eu" || r.EventID != "1" || r.Outcome != "processed" {
		t.Errorf("recent event %+v", r)
	}
}
