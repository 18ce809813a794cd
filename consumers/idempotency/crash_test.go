package idempotency

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// A worker killed mid-event leaves its claim behind. Redeliveries that find
// the claim must wait for its expiry (visibility = the lease's remainder)
// instead of burning receive counts on backoff retries, must not open the
// sink's breaker (a busy key says nothing about the sink), and must process
// the event once the claim expires: nothing dead-lettered, nothing lost.
func TestCrashedWorkersClaimIsRetriedAtItsExpiry(t *testing.T) {
	const lease = 5 * time.Second
	dlq := memqueue.New(memqueue.Config{Name: "crash-dlq", WaitTime: 20 * time.Millisecond})
	q := memqueue.New(memqueue.Config{Name: "crash", WaitTime: 20 * time.Millisecond, VisibilityTimeout: 30 * time.Second,
		MaxReceiveCount: 4, DeadLetter: dlq})
	store := NewMemory()
	var mu sync.Mutex
	calls := map[string]int{}
	mw := Middleware(store, Options{Lease: lease})
	eng, err := engine.New(engine.Options{Source: q, Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Middlewares: []delivery.Middleware{mw},
		Breaker:     engine.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute},
		Routes: []route.Route[delivery.Handler]{{Name: "fx", Handler: delivery.HandlerFunc(func(_ context.Context, e *ce.Event) error {
			mu.Lock()
			calls[e.ID()]++
			mu.Unlock()
			return nil
		})}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		// The crashed worker's claims, taken just now.
		if _, _, err := store.Begin(context.Background(), Key("fx", event(id)), "crashed-worker", lease); err != nil {
			t.Fatal(err)
		}
		q.Send(`{"specversion":"1.0","id":"`+id+`","source":"test","type":"t.v1"}`, nil, "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(lease + 10*time.Second)
	for {
		if st := eng.Breakers()["fx"]; st != "closed" {
			t.Fatalf("breaker %s: busy keys were counted as sink failures", st)
		}
		if s := dlq.Stats(); s.Visible > 0 {
			t.Fatalf("%d healthy messages dead-lettered while a crashed worker's claim was live", s.Visible)
		}
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		if s := q.Stats(); n == len(ids) && s.Visible+s.InFlight+s.Delayed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: processed %v, queue %+v, dlq %+v", lease+10*time.Second, calls, q.Stats(), dlq.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range ids {
		if calls[id] != 1 {
			t.Errorf("event %s processed %d times, want once", id, calls[id])
		}
	}
}

// A handler that runs longer than the lease keeps its claim: the
// middleware renews it while the handler runs, so a redelivery meanwhile
// finds the key busy instead of running the effect a second time.
func TestLeaseIsRenewedWhileTheHandlerRuns(t *testing.T) {
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := mk(&clock{t: time.Now()})
			if c, ok := store.(*Memory); ok {
				c.now = time.Now
			}
			if d, ok := store.(*DynamoDB); ok {
				d.now = time.Now
			}
			const lease = 2 * time.Second
			release := make(chan struct{})
			started := make(chan struct{})
			slow := Middleware(store, Options{Lease: lease})(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
				close(started)
				<-release
				return nil
			}))
			ctx := context.Background()
			errc := make(chan error, 1)
			go func() { errc <- slow.Handle(ctx, event("long")) }()
			<-started
			time.Sleep(2*lease + time.Second) // well past the original lease
			st, _, err := store.Begin(ctx, Key("", event("long")), "second-worker", lease)
			if err != nil {
				t.Fatal(err)
			}
			close(release)
			if err := <-errc; err != nil {
				t.Fatalf("slow handler: %v", err)
			}
			if st != Busy {
				t.Fatalf("a second worker got %v %v after the first lease ran out while its handler still ran: the lease was not renewed", st, 2*lease+time.Second)
			}
		})
	}
}

// failingMarker is a store whose first Complete fails as a DynamoDB outage
// would (after the SDK's own retries).
type failingMarker struct {
	*Memory
	failed atomic.Bool
}

func (f *failingMarker) Complete(ctx context.Context, key, token string, ttl time.Duration) error {
	if f.failed.CompareAndSwap(false, true) {
		return errors.New("dynamodb: connection reset by peer")
	}
	return f.Memory.Complete(ctx, key, token, ttl)
}

// Once the handler succeeded, its effect happened: a completed marker that
// cannot be written must not turn into a retry, which would run the effect
// again once the claim expires. The message is acknowledged (deleting it is
// what prevents the repeat) and nothing is redelivered.
func TestMarkerWriteFailureDoesNotRepeatTheEffect(t *testing.T) {
	const lease = 2 * time.Second
	q := memqueue.New(memqueue.Config{Name: "marker", WaitTime: 20 * time.Millisecond, VisibilityTimeout: 30 * time.Second, MaxReceiveCount: 5})
	store := &failingMarker{Memory: NewMemory()}
	var calls atomic.Int32
	eng, err := engine.New(engine.Options{Source: q, Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Backoff:     delivery.Backoff{Base: 100 * time.Millisecond, Max: time.Second},
		Middlewares: []delivery.Middleware{Middleware(store, Options{Lease: lease, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})},
		Routes: []route.Route[delivery.Handler]{{Name: "fx", Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error {
			calls.Add(1)
			return nil
		})}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	q.Send(`{"specversion":"1.0","id":"m1","source":"test","type":"t.v1"}`, nil, "")
	// Long enough for a retry to outwait the claim and run the handler again.
	time.Sleep(lease + 3*time.Second)
	if n := calls.Load(); n != 1 {
		t.Fatalf("the effect ran %d times: a failed marker write after a successful handler was retried", n)
	}
	if s := q.Stats(); s.Visible+s.InFlight+s.Delayed != 0 {
		t.Fatalf("the message was not acknowledged after its effect: queue %+v", s)
	}
}

// slowMarker is a store whose Complete takes delay (a slow DynamoDB).
type slowMarker struct {
	*Memory
	delay time.Duration
}

func (s *slowMarker) Complete(ctx context.Context, key, token string, ttl time.Duration) error {
	time.Sleep(s.delay)
	return s.Memory.Complete(ctx, key, token, ttl)
}

// SIGTERM never repeats a finished effect: a handler that returned success
// within the grace period has its marker written and its message deleted
// even when the marker write runs past the grace period's end (when the
// handlers' context is cancelled), so the next consumer neither finds the
// message nor runs the effect again.
func TestShutdownNeverRepeatsAFinishedEffect(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "term", WaitTime: 20 * time.Millisecond, VisibilityTimeout: 2 * time.Second, MaxReceiveCount: 5})
	store := &slowMarker{Memory: NewMemory(), delay: time.Second}
	var calls atomic.Int32
	started := make(chan struct{}, 1)
	newEngine := func() *engine.Engine {
		eng, err := engine.New(engine.Options{Source: q, Metrics: metrics.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			ShutdownGrace: 300 * time.Millisecond,
			Middlewares:   []delivery.Middleware{Middleware(store, Options{Lease: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})},
			Routes: []route.Route[delivery.Handler]{{Name: "fx", Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error {
				calls.Add(1)
				started <- struct{}{}
				time.Sleep(200 * time.Millisecond) // finishes inside the grace period
				return nil
			})}}})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	q.Send(`{"specversion":"1.0","id":"t1","source":"test","type":"t.v1"}`, nil, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = newEngine().Run(ctx); close(done) }()
	<-started
	cancel() // SIGTERM while the handler runs
	<-done
	if s := q.Stats(); s.Visible+s.InFlight+s.Delayed != 0 {
		t.Fatalf("a finished effect's message was not deleted at shutdown: queue %+v", s)
	}
	// The next consumer, after the old receipt's visibility would have ended.
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { _ = newEngine().Run(ctx); close(done) }()
	time.Sleep(3 * time.Second)
	cancel()
	<-done
	if n := calls.Load(); n != 1 {
		t.Fatalf("the effect ran %d times across a SIGTERM", n)
	}
}
