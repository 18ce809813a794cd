package delivery_test

import (
	"context"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/route"
)

// A handler span continues the message's upstream trace: the X-Ray
// AWSTraceHeader system attribute SQS sets (Root=1-<8 hex epoch>-<24 hex>,
// Parent=<16 hex>: the X-Ray trace header format), or the event's W3C
// traceparent, which wins when both are there; a message with neither starts
// a new trace. The span carries the messaging and CloudEvents attributes the
// README lists, whatever the route.
func TestSpanContinuesUpstreamTrace(t *testing.T) {
	const xrayHeader = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	body := func(ext string) string {
		return `{"specversion":"1.0","id":"e-1","source":"https://shop.example.com/orders","type":"t.v1"` + ext + `}`
	}
	cases := []struct {
		name          string
		m             event.Message
		trace, parent string // "" parent: a root span
	}{
		{"x-ray header", event.Message{Body: body(""), Attributes: map[string]string{"AWSTraceHeader": xrayHeader}},
			"5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8"},
		{"traceparent", event.Message{Body: body(`,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`)},
			"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"traceparent over x-ray", event.Message{Body: body(`,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`),
			Attributes: map[string]string{"AWSTraceHeader": xrayHeader}}, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"neither", event.Message{Body: body("")}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			p, err := delivery.NewProcessor(delivery.ProcessorOptions{Tracer: tp, Routes: []route.Route[delivery.Handler]{
				{Name: "orders", Handler: delivery.HandlerFunc(func(ctx context.Context, _ *ce.Event) error {
					if r := delivery.RouteName(ctx); r != "orders" {
						t.Errorf("RouteName in the handler = %q, want orders", r)
					}
					return nil
				})}}})
			if err != nil {
				t.Fatal(err)
			}
			c.m.MessageID, c.m.QueueARN = "m-1", "arn:aws:sqs:us-east-1:000000000000:orders-queue"
			s := p.One(context.Background(), delivery.Message{Message: c.m, ReceiveCount: 3})
			if s.Outcome != delivery.Ack || len(rec.Ended()) != 1 {
				t.Fatalf("outcome %v, %d spans: want ack and one span", s.Outcome, len(rec.Ended()))
			}
			span := rec.Ended()[0]
			if s.TraceID != span.SpanContext().TraceID() {
				t.Errorf("settlement trace %s, span trace %s", s.TraceID, span.SpanContext().TraceID())
			}
			if c.trace != "" && (span.SpanContext().TraceID().String() != c.trace || span.Parent().SpanID().String() != c.parent) {
				t.Errorf("span trace %s parent %s: want trace %s parent %s", span.SpanContext().TraceID(), span.Parent().SpanID(), c.trace, c.parent)
			}
			if c.trace == "" && span.Parent().IsValid() {
				t.Errorf("span has parent %s: want a root span", span.Parent().SpanID())
			}
			if span.Name() != "process orders" {
				t.Errorf("span name %q", span.Name())
			}
			got := map[string]string{}
			for _, a := range span.Attributes() {
				got[string(a.Key)] = a.Value.String()
			}
			want := map[string]string{"messaging.system": "aws_sqs", "messaging.operation.type": "process", "messaging.operation.name": "process",
				"messaging.message.id": "m-1", "messaging.destination.name": "orders-queue", "eventplane.receive_count": "3",
				"cloudevents.event_id": "e-1", "cloudevents.event_source": "https://shop.example.com/orders", "cloudevents.event_type": "t.v1",
				"eventplane.route": "orders"}
			if len(got) != len(want) {
				t.Errorf("span attributes %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("span attribute %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
