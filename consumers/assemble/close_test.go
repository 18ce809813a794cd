package assemble

import (
	"context"
	"encoding/json"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/handlers"
)

type pooled struct{ closed int }

func (p *pooled) Handle(context.Context, *ce.Event) error { return nil }
func (p *pooled) Close() error                            { p.closed++; return nil }

// A consumer whose later route fails to build never runs, so no engine will
// close the handlers already built (an SQL route's pool stays connected):
// Engine closes them before it returns the error.
func TestEngineClosesBuiltHandlersWhenARouteFails(t *testing.T) {
	p := &pooled{}
	reg := handlers.NewRegistry()
	reg.Register("pooled", func(context.Context, handlers.Deps, json.RawMessage) (delivery.Handler, error) { return p, nil })
	cfg := config.Config{Routes: []config.Route{{Name: "first", Handler: "pooled"}, {Name: "second", Handler: "no-such-handler"}}}
	if _, err := Engine(context.Background(), cfg, Parts{Registry: reg}); err == nil {
		t.Fatal("Engine built a consumer with an unknown handler")
	}
	if p.closed != 1 {
		t.Fatalf("the first route's handler was closed %d times, want 1", p.closed)
	}
}
