package local_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// A topology that shares no name with api/topology.yaml: the platform finds
// the ingest bus and the idempotency table by their roles, so an event
// posted to the ingest API reaches the consumer and its table, and a
// lambda-sqs function on a second queue (run locally like a consumer of its
// queue, with its routes) writes its own record.
const renamedTopology = `
version: 1
ingest: { bus: commerce }
buses: [{ name: commerce }]
rules:
  - name: to-sink
    bus: commerce
    pattern: { detail-type: [{ prefix: "io.eventplane.demo.order.placed." }] }
    targets: [{ queue: sink }, { queue: fn-in }]
failures: { queue: undeliverable }
queues:
  - { name: sink, visibilityTimeoutSeconds: 30, maxReceiveCount: 3 }
  - { name: fn-in, visibilityTimeoutSeconds: 60, maxReceiveCount: 3 }
  - { name: undeliverable, deadLetter: false }
tables:
  - { name: dedupe, purpose: idempotency, hashKey: { name: pk, type: S }, ttlAttribute: expiresAt }
  - { name: records, hashKey: { name: pk, type: S }, rangeKey: { name: sk, type: S } }
consumers:
  - name: keeper
    queue: sink
    uses: { tables: [records, dedupe] }
    routes:
      - { name: keep, handler: store, options: { table: "${tables.records}", key: { pk: "order#{{data.orderId}}", sk: state } } }
lambdas:
  - name: keeper-fn
    handler: lambda-sqs
    queue: fn-in
    uses: { tables: [records, dedupe] }
    routes:
      - { name: keep, handler: store, options: { table: "${tables.records}", key: { pk: "fn#{{data.orderId}}", sk: state } } }
`

func TestRenamedTopologyRunsLocally(t *testing.T) {
	top, err := topology.Parse([]byte(renamedTopology))
	if err != nil {
		t.Fatal(err)
	}
	p, err := local.New(context.Background(), local.Options{Topology: top, Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BackoffBase: 100 * time.Millisecond})
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
			t.Errorf("platform stopped with: %v", err)
		}
	}()
	resp, err := http.Post(srv.URL+"/events", "application/cloudevents-batch+json", strings.NewReader("["+order("r-1", 12)+"]"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /events: %s %s", resp.Status, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, err := p.Tables.Items(p.Names.Tables["records"], 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records holds %d items, want the posted order from the consumer and from the function", len(items))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
