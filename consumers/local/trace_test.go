package local_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// One event through ingest -> bus -> orders queue -> orders consumer, and
// bus -> order-events topic -> order-alerts queue -> alerts consumer ->
// alerts topic (the sink) is ONE trace: the trace travels as AWS carries it
// (PutEvents TraceHeader, AWSTraceHeader on SQS, the traceparent attribute
// on SNS), and every span has the ingest request's trace id.
func TestOneTraceFromProducerToSink(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	top, err := topology.Load(repoTopology)
	if err != nil {
		t.Fatal(err)
	}
	p, err := local.New(context.Background(), local.Options{Topology: top, Dir: t.TempDir(), Getenv: func(string) string { return "" },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tracer: tp, BackoffBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := events.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler(schemas))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	// The producer's own trace context, in the HTTP binding's traceparent.
	const producerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/events", strings.NewReader("["+order("t-1", 1500)+"]"))
	req.Header.Set("Content-Type", "application/cloudevents-batch+json")
	req.Header.Set("traceparent", "00-"+producerTrace+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /events: %v %v", err, resp)
	}
	resp.Body.Close()
	want := []string{"POST /events", "process store", "process archive", "process notify"}
	eventually(t, 20*time.Second, "spans of every hop", func() (bool, string) {
		names := map[string]bool{}
		for _, s := range rec.Ended() {
			names[s.Name()] = true
		}
		for _, n := range want {
			if !names[n] {
				return false, fmt.Sprint(names)
			}
		}
		return true, ""
	})
	ids := map[string][]string{}
	for _, s := range rec.Ended() {
		ids[s.SpanContext().TraceID().String()] = append(ids[s.SpanContext().TraceID().String()], s.Name())
	}
	if len(ids) != 1 || ids[producerTrace] == nil {
		var all []string
		for id, names := range ids {
			sort.Strings(names)
			all = append(all, id+": "+strings.Join(names, ", "))
		}
		t.Fatalf("spans in %d traces, want one (the producer's %s):\n%s", len(ids), producerTrace, strings.Join(all, "\n"))
	}
	// The dashboard's recent events show the trace id.
	resp, err = http.Get(srv.URL + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"traceId":"`+producerTrace+`"`) {
		t.Errorf("/api/state recent events lack traceId %s: %s", producerTrace, b)
	}
}
