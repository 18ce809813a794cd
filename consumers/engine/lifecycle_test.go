package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
)

// Started is closed once the source has answered a receive: a caller waits
// on it (with its own timeout) instead of polling Ready in a sleep loop.
func TestStartedIsClosedAfterTheFirstReceive(t *testing.T) {
	h := start(t, memqueue.Config{WaitTime: 20 * time.Millisecond}, engine.Options{Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil }))})
	select {
	case <-h.eng.Started():
	case <-time.After(5 * time.Second):
		t.Fatal("Started not closed 5s after Run began")
	}
	if !h.eng.Ready() {
		t.Fatal("Started closed while Ready reports false")
	}
}

// closing is a handler holding a resource (a connection pool, a batch and its
// timer) that Close releases.
type closing struct {
	handled, closed atomic.Int32
	closedAfter     atomic.Bool // Close came after every Handle returned
	inHandle        atomic.Int32
}

func (c *closing) Handle(context.Context, *ce.Event) error {
	c.inHandle.Add(1)
	defer c.inHandle.Add(-1)
	c.handled.Add(1)
	return nil
}

func (c *closing) Close() error {
	c.closed.Add(1)
	c.closedAfter.Store(c.inHandle.Load() == 0)
	return nil
}

// A handler that holds resources is closed once, when Run has finished the
// in-flight work at shutdown — a consumer that stops (SIGTERM, the local
// platform's Ctrl-C) leaves no pool open and no batch timer pending.
func TestRunClosesHandlersOnShutdown(t *testing.T) {
	c := &closing{}
	// The same handler on two routes is still closed once.
	h := start(t, memqueue.Config{}, engine.Options{Routes: []route.Route[delivery.Handler]{
		{Name: "a", Pattern: `{"type":["t.v1"]}`, Handler: c}, {Name: "b", Pattern: `{"type":["other"]}`, Handler: c}}})
	h.send(3, nil)
	eventually(t, 10*time.Second, "events handled", func() bool { return c.handled.Load() == 3 })
	if n := c.closed.Load(); n != 0 {
		t.Fatalf("closed %d times while running", n)
	}
	h.stop()
	if n := c.closed.Load(); n != 1 {
		t.Fatalf("handler closed %d times after Run returned, want 1", n)
	}
	if !c.closedAfter.Load() {
		t.Fatal("handler closed while a Handle call was running")
	}
}
