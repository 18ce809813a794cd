package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
)

// A producer that retries (the same source and id sent twice through the
// ingest API) causes exactly one effect in every flow: EventBridge gives each
// PutEvents entry its own id, so the CloudEvent's id must travel in the
// entry (the wire contract in the README) for the consumers' (source, id)
// deduplication to catch the retry.
func TestProducerRetryHasOneEffectLocally(t *testing.T) {
	pg := pgserver.Shared(t)
	s := start(t, t.TempDir(), func(k string) string {
		if k == "EVENTPLANE_POSTGRES_DSN" {
			return pg.DSN
		}
		return ""
	})
	s.post("[" + order("retry-1", 1500) + "]")
	s.post("[" + order("retry-1", 1500) + "]") // the producer's retry
	eventually(t, 10*time.Second, "both deliveries handled", func() (bool, string) {
		st := s.state()
		o, a, al := consumerOf(st, "orders"), consumerOf(st, "analytics"), consumerOf(st, "alerts")
		return o["handled"].(float64) >= 2 && a["handled"].(float64) == 2 && al["handled"].(float64) == 2,
			fmt.Sprintf("orders %v analytics %v alerts %v", o, a, al)
	})
	// store: one item, carrying the producer's id.
	items, err := s.p.Tables.Items(s.p.Names.Tables["orders"], 10)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(items)
	if len(items) != 1 || !strings.Contains(string(b), `"retry-1"`) {
		t.Errorf("orders table: %s; want one item with eventId retry-1", b)
	}
	// sql: one row, keyed by the producer's source and id.
	conn := pg.Connect(t)
	var rows int
	var ids string
	if err := conn.QueryRow(context.Background(), `SELECT count(*), string_agg(id, ',') FROM order_analytics WHERE data->>'orderId' = 'retry-1'`).Scan(&rows, &ids); err != nil || rows != 1 || ids != "retry-1" {
		t.Errorf("order_analytics has %d rows with ids %q (%v), want one with id retry-1", rows, ids, err)
	}
	// publish/alerts: one alert.
	for _, tp := range s.state().Topics {
		if tp["name"] == "alerts" && tp["published"].(float64) != 1 {
			t.Errorf("alerts topic got %v publications, want 1 (the retry is a duplicate)", tp["published"])
		}
	}
	// Every consumer saw the producer's id.
	for _, r := range s.state().Recent {
		if r.EventID != "" && r.EventID != "retry-1" {
			t.Errorf("consumer %s saw event id %q, want the producer's retry-1", r.Consumer, r.EventID)
		}
	}
}
