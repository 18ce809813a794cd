package delivery_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/tracing"
)

// benchMessage is an order event as SNS delivers it to a queue (the
// floor benchmark's event, consumers/internal/floorbench).
func benchMessage(i int) delivery.Message {
	ce := fmt.Sprintf(`{"specversion":"1.0","id":"bench-%d","source":"https://shop.example.com/orders","type":"io.eventplane.demo.order.placed.v1","subject":"orders/%d","time":"2026-11-20T17:00:00Z","datacontenttype":"application/json","data":{"orderId":"%d","customerId":"c-19","currency":"EUR","total":129.5,"items":[{"sku":"BOOK-1","quantity":2,"price":64.75}]}}`, i, i, i)
	body := fmt.Sprintf(`{"Type":"Notification","MessageId":"00000000-0000-4000-8000-%012d","TopicArn":"arn:aws:sns:us-east-1:000000000000:eventplane-bench-orders","Message":%q,"Timestamp":"2026-11-20T17:00:00.000Z","SignatureVersion":"1","Signature":"EXAMPLE","SigningCertURL":"https://sns.us-east-1.amazonaws.com/cert.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}`, i, ce)
	return delivery.Message{Message: event.Message{MessageID: fmt.Sprintf("m-%d", i), QueueARN: "arn:aws:sqs:us-east-1:000000000000:bench-orders", Body: body},
		Receipt: fmt.Sprintf("r-%d", i), ReceiveCount: 1}
}

// BenchmarkOneTraced is Processor.One on the floor benchmark's event with
// one route, per tracing set-up: off (no-op provider), spans recorded with no
// processor, spans batched (the SDK's batch span processor) to an exporter
// that drops them, and the consumer's provider (tracing.Start) exporting with
// OTLP/HTTP protobuf to a loopback receiver (the consumer's "telemetry on";
// OTEL_BSP_* and OTEL_EXPORTER_OTLP_* as the environment sets them).
// EVENTPLANE_BENCH_PAUSE pauses after every 10 messages, as a consumer
// waits for its next receive.
func BenchmarkOneTraced(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer sink.Close()
	for _, c := range []struct {
		name string
		tp   func() (trace.TracerProvider, func())
	}{
		{"off", func() (trace.TracerProvider, func()) { return nil, func() {} }},
		{"recorded", func() (trace.TracerProvider, func()) {
			tp := sdktrace.NewTracerProvider()
			return tp, func() { _ = tp.Shutdown(context.Background()) }
		}},
		{"batched-dropped", func() (trace.TracerProvider, func()) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(dropExporter{}))
			return tp, func() { _ = tp.Shutdown(context.Background()) }
		}},
		{"otlp-http", func() (trace.TracerProvider, func()) { // the consumer's provider
			b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL) // otlptracehttp reads the process's environment
			tp, stop, err := tracing.Start(context.Background(), os.Getenv, tracing.OTLPHTTP(os.Getenv))
			if err != nil {
				b.Fatal(err)
			}
			return tp, func() { _ = stop(context.Background()) }
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tp, stop := c.tp()
			p, err := delivery.NewProcessor(delivery.ProcessorOptions{Tracer: tp, Observer: nopObserver{},
				Routes: []route.Route[delivery.Handler]{{Name: "orders", Pattern: `{"type":["io.eventplane.demo.order.placed.v1"]}`,
					Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil })}}})
			if err != nil {
				b.Fatal(err)
			}
			msgs := make([]delivery.Message, 1000)
			for i := range msgs {
				msgs[i] = benchMessage(i)
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 0
			for b.Loop() {
				if s := p.One(context.Background(), msgs[i%len(msgs)]); s.Outcome != delivery.Ack {
					b.Fatalf("settled %v: %v", s.Outcome, s.Err)
				}
				i++
				if benchPause > 0 && i%10 == 0 {
					time.Sleep(benchPause)
				}
			}
			stop() // flushes what is queued: its export is part of the cost
			// CPU, not wall time: the batch processor exports on its own
			// goroutine, beside the loop on another core.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(i), "cpu-ns/op")
		})
	}
}

// processCPU is the process's user + system CPU time (getrusage(2)).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPause is slept after every 10 messages (a receive's batch), so that
// the batch span processor's goroutine parks and wakes as in a consumer
// (EVENTPLANE_BENCH_PAUSE=1ms; default none).
var benchPause, _ = time.ParseDuration(os.Getenv("EVENTPLANE_BENCH_PAUSE"))

type dropExporter struct{}

func (dropExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropExporter) Shutdown(context.Context) error                             { return nil }

type nopObserver struct{}

func (nopObserver) Handled(string, time.Duration, error) {}
