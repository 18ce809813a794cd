package consumer_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/consumer"
	"github.com/eventplane/eventplane/consumers/internal/testenv/localplatform"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// A handler registered with consumer.Handle runs on the local platform
// (eventplane dev) when a topology consumer's route names it: here the
// repository topology's orders consumer, its routes replaced by one to
// "enrich".
func TestHandleConsumesFromTheLocalPlatform(t *testing.T) {
	top, err := topology.Load(filepath.Join("..", "..", "api", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range top.Consumers {
		if top.Consumers[i].Name == "orders" {
			top.Consumers[i].Routes = []topology.Route{{Name: "enrich", Handler: "enrich"}}
			found = true
		}
	}
	if !found {
		t.Fatal("the repository topology has no orders consumer")
	}
	got := make(chan string, 10)
	reg := consumer.Registry(consumer.Handle("enrich", func(ctx context.Context, e cloudevents.Event) error {
		got <- e.Type() + " " + e.ID()
		return nil
	}))
	_, url, _ := localplatform.Start(t, local.Options{Topology: top, Registry: reg, WatchInterval: 50 * time.Millisecond})
	body := `{"specversion":"1.0","id":"o-1","source":"shop","type":"io.eventplane.demo.order.placed.v1","time":"2026-11-26T17:10:00Z",` +
		`"datacontenttype":"application/json","data":{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":5,"items":[{"sku":"a","quantity":1,"price":5}]}}`
	resp, err := http.Post(url+"/events", "application/cloudevents+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /events: %s %s", resp.Status, b)
	}
	select {
	case e := <-got:
		if e != "io.eventplane.demo.order.placed.v1 o-1" {
			t.Errorf("enrich got %q", e)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the enrich handler did not get the order within 20s")
	}
}
