package local_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventplane/eventplane/consumers/internal/testenv/localplatform"
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
	_, url, _ := localplatform.Start(t, local.Options{Topology: top, Getenv: func(string) string { return "" },
		Tracer: tp, BackoffBase: 100 * time.Millisecond})

	// The producer's own trace context, in the HTTP binding's traceparent.
	const producerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, url+"/events", strings.NewReader("["+order("t-1", 1500)+"]"))
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
	resp, err = http.Get(url + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"traceId":"`+producerTrace+`"`) {
		t.Errorf("/api/state recent events lack traceId %s: %s", producerTrace, b)
	}
}
