package idempotency

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var tableSeq atomic.Int32

func stores(t *testing.T) map[string]func(*clock) Store {
	return map[string]func(*clock) Store{
		"memory": func(c *clock) Store { m := NewMemory(); m.now = c.now; return m },
		"dynamodb": func(c *clock) Store {
			client := dynamodb.NewFromConfig(motoserver.Shared(t).Config())
			name := fmt.Sprintf("idempotency-%d", tableSeq.Add(1))
			_, err := client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
				TableName:            aws.String(name),
				BillingMode:          types.BillingModePayPerRequest,
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			})
			if err != nil {
				t.Fatal(err)
			}
			d := NewDynamoDB(client, name)
			d.now = c.now
			return d
		},
	}
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{t: time.Unix(1_800_000_000, 0)}
			s := mk(c)
			expect := func(got State, err error, want State) {
				t.Helper()
				if err != nil || got != want {
					t.Fatalf("Begin = %v, %v; want %v", got, err, want)
				}
			}
			st, _, err := s.Begin(ctx, "k1", "a", time.Minute)
			expect(st, err, Claimed)
			st, until, err := s.Begin(ctx, "k1", "b", time.Minute)
			expect(st, err, Busy)
			if want := c.now().Add(time.Minute); !until.Equal(want) {
				t.Fatalf("Busy until %v, want the holder's lease end %v", until, want)
			}
			if err := s.Complete(ctx, "k1", "a", time.Hour); err != nil {
				t.Fatal(err)
			}
			st, _, err = s.Begin(ctx, "k1", "c", time.Minute)
			expect(st, err, Done)

			// A released claim can be taken at once.
			st, _, err = s.Begin(ctx, "k2", "a", time.Minute)
			expect(st, err, Claimed)
			if err := s.Release(ctx, "k2", "a"); err != nil {
				t.Fatal(err)
			}
			st, _, err = s.Begin(ctx, "k2", "b", time.Minute)
			expect(st, err, Claimed)

			// A crashed worker's lease expires; its late Complete is refused.
			st, _, err = s.Begin(ctx, "k3", "crashed", time.Minute)
			expect(st, err, Claimed)
			c.add(2 * time.Minute)
			st, _, err = s.Begin(ctx, "k3", "rescuer", time.Minute)
			expect(st, err, Claimed)
			if err := s.Complete(ctx, "k3", "crashed", time.Hour); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("late Complete = %v, want ErrLeaseLost", err)
			}
			if err := s.Complete(ctx, "k3", "rescuer", time.Hour); err != nil {
				t.Fatal(err)
			}

			// A renewed claim outlives its first lease; only its holder renews it.
			st, _, err = s.Begin(ctx, "k4", "holder", time.Minute)
			expect(st, err, Claimed)
			c.add(50 * time.Second)
			if err := s.Extend(ctx, "k4", "holder", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := s.Extend(ctx, "k4", "other", time.Minute); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("Extend by a non-holder = %v, want ErrLeaseLost", err)
			}
			c.add(50 * time.Second)
			st, _, err = s.Begin(ctx, "k4", "other", time.Minute)
			expect(st, err, Busy)

			// A completed marker is forgotten after its TTL.
			c.add(2 * time.Hour)
			st, _, err = s.Begin(ctx, "k1", "d", time.Minute)
			expect(st, err, Claimed)
		})
	}
}

func event(id string) *ce.Event {
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource("test")
	e.SetType("t.v1")
	return &e
}

func TestMiddlewareProcessesOnce(t *testing.T) {
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(&clock{t: time.Now()})
			var calls atomic.Int32
			release := make(chan struct{})
			h := Middleware(s, Options{})(delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
				calls.Add(1)
				<-release
				return nil
			}))
			ctx := context.Background()
			// Two workers get the same event at the same time.
			errc := make(chan error, 2)
			go func() { errc <- h.Handle(ctx, event("e1")) }()
			for calls.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			if err := h.Handle(ctx, event("e1")); !errors.Is(err, ErrInProgress) {
				t.Fatalf("concurrent duplicate: %v, want ErrInProgress (retried later)", err)
			}
			close(release)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			// A redelivery after completion is skipped.
			if err := h.Handle(ctx, event("e1")); !errors.Is(err, delivery.ErrSkip) {
				t.Fatalf("completed duplicate: %v, want engine.ErrSkip", err)
			}
			if calls.Load() != 1 {
				t.Fatalf("handler ran %d times", calls.Load())
			}
			// A failure releases the claim: the retry runs the handler.
			fails := Middleware(s, Options{})(delivery.HandlerFunc(func(context.Context, *ce.Event) error { return errors.New("down") }))
			if err := fails.Handle(ctx, event("e2")); err == nil {
				t.Fatal("failure swallowed")
			}
			if err := h.Handle(ctx, event("e2")); err != nil {
				t.Fatalf("retry after a failure: %v", err)
			}
			if calls.Load() != 2 {
				t.Fatalf("handler ran %d times, want 2", calls.Load())
			}
		})
	}
}

func TestKeyDependsOnRouteSourceAndID(t *testing.T) {
	a, b := event("1"), event("1")
	b.SetSource("other")
	if Key("r", a) == Key("r", b) || Key("r", a) == Key("s", a) || Key("r", a) != Key("r", event("1")) {
		t.Fatal("keys must differ by route and source, and be stable")
	}
}

// Through the engine: the same event delivered twice has one effect and is
// counted as a duplicate; both messages are acknowledged.
func TestEngineSkipsDuplicates(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "dup", WaitTime: 20 * time.Millisecond})
	m := metrics.New()
	var calls atomic.Int32
	eng, err := engine.New(engine.Options{Source: q, Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Middlewares: []delivery.Middleware{Middleware(NewMemory(), Options{})},
		Routes: []route.Route[delivery.Handler]{{Name: "store", Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error {
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
	body := `{"specversion":"1.0","id":"order-1","source":"shop","type":"order.placed.v1"}`
	q.Send(body, nil, "")
	q.Send(body, nil, "")
	deadline := time.Now().Add(5 * time.Second)
	for s := q.Stats(); s.Visible+s.InFlight > 0 || testutil.ToFloat64(m.Duplicates) < 1; s = q.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, duplicates %v", s, testutil.ToFloat64(m.Duplicates))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times for one event delivered twice", calls.Load())
	}
}

type folding struct {
	delivery.HandlerFunc
}

func (folding) ManagesDuplicates() {}

func TestMiddlewareLeavesSelfIdempotentHandlers(t *testing.T) {
	var calls int
	h := folding{func(context.Context, *ce.Event) error { calls++; return nil }}
	wrapped := Middleware(NewMemory(), Options{})(h)
	_ = wrapped.Handle(context.Background(), event("x"))
	_ = wrapped.Handle(context.Background(), event("x"))
	if calls != 2 {
		t.Fatalf("handler ran %d times: the middleware must not add its own record to a handler that folds idempotency into its write", calls)
	}
}
