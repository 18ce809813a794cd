package local_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/localplatform"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// A topology that shares no name with api/topology.yaml: the platform finds
// the ingest bus and the idempotency table by their roles, so an event
// posted to the ingest API reaches the consumer and its table.
const renamedTopology = `
version: 1
ingest: { bus: commerce }
buses: [{ name: commerce }]
rules:
  - name: to-sink
    bus: commerce
    pattern: { detail-type: [{ prefix: "io.eventplane.demo.order.placed." }] }
    targets: [{ queue: sink }]
queues: [{ name: sink, visibilityTimeoutSeconds: 30, maxReceiveCount: 3 }]
tables:
  - { name: dedupe, purpose: idempotency, hashKey: { name: pk, type: S }, ttlAttribute: expiresAt }
  - { name: records, hashKey: { name: pk, type: S }, rangeKey: { name: sk, type: S } }
consumers:
  - name: keeper
    queue: sink
    uses: { tables: [records, dedupe] }
    routes:
      - { name: keep, handler: store, options: { table: "${tables.records}", key: { pk: "order#{{data.orderId}}", sk: state } } }
`

func TestRenamedTopologyRunsLocally(t *testing.T) {
	top, err := topology.Parse([]byte(renamedTopology))
	if err != nil {
		t.Fatal(err)
	}
	p, url, _ := localplatform.Start(t, local.Options{Topology: top, BackoffBase: 100 * time.Millisecond})
	resp, err := http.Post(url+"/events", "application/cloudevents-batch+json", strings.NewReader("["+order("r-1", 12)+"]"))
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
		if len(items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records holds %d items, want the posted order", len(items))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
