package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

type harness struct {
	t      *testing.T
	q, dlq *memqueue.Queue
	eng    *engine.Engine
	m      *metrics.Metrics
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, qc memqueue.Config, opt engine.Options) *harness {
	t.Helper()
	dlq := memqueue.New(memqueue.Config{Name: "dlq", FIFO: qc.FIFO, WaitTime: 50 * time.Millisecond})
	if qc.Name == "" {
		qc.Name = "q"
	}
	if qc.WaitTime == 0 {
		qc.WaitTime = 50 * time.Millisecond
	}
	qc.DeadLetter = dlq
	q := memqueue.New(qc)
	opt.Source = q
	opt.Metrics = metrics.New()
	opt.Logger = quiet()
	opt.FIFO = qc.FIFO
	eng, err := engine.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, q: q, dlq: dlq, eng: eng, m: opt.Metrics, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- eng.Run(ctx) }()
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v", err)
		}
		h.done <- nil
	case <-time.After(40 * time.Second):
		h.t.Fatal("engine did not stop")
	}
}

func (h *harness) send(n int, group func(i int) string) {
	for i := range n {
		g := ""
		if group != nil {
			g = group(i)
		}
		body := fmt.Sprintf(`{"specversion":"1.0","id":"e-%d","source":"test","type":"t.v1","data":{"n":%d,"group":%q}}`, i, i, g)
		if _, err := h.q.Send(body, nil, g); err != nil {
			h.t.Fatal(err)
		}
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testserver.WaitFor(t, timeout, 10*time.Millisecond, what, cond)
}

func routes(h delivery.Handler) []route.Route[delivery.Handler] {
	return []route.Route[delivery.Handler]{{Name: "all", Handler: h}}
}

func empty(q *memqueue.Queue) bool { s := q.Stats(); return s.Visible+s.InFlight+s.Delayed == 0 }

func TestProcessesEverythingAndBatchesDeletes(t *testing.T) {
	var seen sync.Map
	h := start(t, memqueue.Config{}, engine.Options{MaxInFlight: 40, Routes: routes(delivery.HandlerFunc(func(_ context.Context, e *ce.Event) error {
		seen.Store(e.ID(), true)
		return nil
	}))})
	const n = 500
	h.send(n, nil)
	eventually(t, 20*time.Second, "queue drained", func() bool { return empty(h.q) })
	count := 0
	seen.Range(func(any, any) bool { count++; return true })
	if count != n {
		t.Fatalf("handled %d distinct events, want %d", count, n)
	}
	req := h.q.Requests()
	perEvent := float64(req["ReceiveMessage"]+req["DeleteMessageBatch"]) / n
	t.Logf("requests %v: %.3f per event", req, perEvent)
	if req["DeleteMessageBatch"] > n/5 {
		t.Errorf("%d delete calls for %d messages: deletes are not batched", req["DeleteMessageBatch"], n)
	}
	if got := testutil.ToFloat64(h.m.Processed.WithLabelValues("all")); got != n {
		t.Errorf("processed metric = %v, want %d", got, n)
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	var attempts atomic.Int32
	var counts []int
	var mu sync.Mutex
	h := start(t, memqueue.Config{MaxReceiveCount: 5}, engine.Options{
		Backoff: delivery.Backoff{Base: time.Second, Max: 2 * time.Second},
		Routes: routes(delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			if attempts.Add(1) < 3 {
				return errors.New("sink unavailable")
			}
			return nil
		})),
		Middlewares: []delivery.Middleware{func(next delivery.Handler) delivery.Handler {
			return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
				mu.Lock()
				counts = append(counts, int(attempts.Load()))
				mu.Unlock()
				return next.Handle(ctx, e)
			})
		}},
	})
	began := time.Now()
	h.send(1, nil)
	eventually(t, 15*time.Second, "message processed after retries", func() bool { return empty(h.q) })
	if attempts.Load() != 3 {
		t.Fatalf("attempts = %d, want 3", attempts.Load())
	}
	if took := time.Since(began); took < 2*time.Second {
		t.Errorf("two retries took %v: backoff delays (>= 1s each) were not applied", took)
	}
	if got := testutil.ToFloat64(h.m.Retried); got != 2 {
		t.Errorf("retried metric = %v, want 2", got)
	}
	if len(h.dlq.Peek()) != 0 {
		t.Error("a message that succeeded on retry reached the DLQ")
	}
}

func TestRedriveToDLQAfterMaxReceiveCount(t *testing.T) {
	var attempts atomic.Int32
	h := start(t, memqueue.Config{MaxReceiveCount: 2}, engine.Options{
		Backoff: delivery.Backoff{Base: time.Second, Max: time.Second},
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
			attempts.Add(1)
			return errors.New("still down")
		})),
		Breaker: engine.BreakerSettings{Disabled: true},
	})
	h.send(1, nil)
	eventually(t, 15*time.Second, "message in the DLQ", func() bool { return len(h.dlq.Peek()) == 1 })
	if attempts.Load() != 2 {
		t.Errorf("attempts = %d, want maxReceiveCount = 2", attempts.Load())
	}
	if !empty(h.q) {
		t.Error("message still in the source queue")
	}
}

func TestPermanentAndUndecodableGoStraightToDLQ(t *testing.T) {
	var attempts atomic.Int32
	h := start(t, memqueue.Config{MaxReceiveCount: 10}, engine.Options{
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
			attempts.Add(1)
			return delivery.Permanentf("order total is negative")
		})),
	})
	h.send(1, nil)
	if _, err := h.q.Send(`{"detail-type":"x","source":"y","id":"1","time":"not-a-time"}`, map[string]string{"tenant": "acme"}, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "two messages in the DLQ", func() bool { return len(h.dlq.Peek()) == 2 })
	if attempts.Load() != 1 {
		t.Errorf("handler called %d times for a permanent failure, want 1", attempts.Load())
	}
	reasons := map[string]string{}
	for _, m := range h.dlq.Peek() {
		reasons[m.MessageAttributes[delivery.AttrFailureReason]] = m.MessageAttributes["tenant"]
		if m.MessageAttributes[delivery.AttrSourceQueue] != h.q.ARN() {
			t.Errorf("DLQ message lacks its source queue: %v", m.MessageAttributes)
		}
	}
	var perm, undec bool
	for r, tenant := range reasons {
		perm = perm || r == "permanent: order total is negative"
		undec = undec || strings.HasPrefix(r, "undecodable: eventbridge: time: not an RFC 3339 time") && tenant == "acme"
	}
	if !perm || !undec {
		t.Fatalf("DLQ reasons = %v", reasons)
	}
	eventually(t, 2*time.Second, "source queue empty", func() bool { return empty(h.q) })
}

func TestHeartbeatKeepsSlowHandlerInvisible(t *testing.T) {
	var calls atomic.Int32
	h := start(t, memqueue.Config{VisibilityTimeout: 2 * time.Second}, engine.Options{
		Routes: routes(delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			calls.Add(1)
			time.Sleep(4500 * time.Millisecond)
			return nil
		})),
	})
	h.send(1, nil)
	eventually(t, 10*time.Second, "slow message processed", func() bool { return empty(h.q) })
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times: the message was redelivered while in progress", calls.Load())
	}
	if got := testutil.ToFloat64(h.m.Extended); got < 2 {
		t.Errorf("visibility extended %v times, want >= 2", got)
	}
}

func TestFIFOSerialWithinGroupParallelAcross(t *testing.T) {
	var mu sync.Mutex
	order := map[string][]int{}
	var active, peak atomic.Int32
	h := start(t, memqueue.Config{FIFO: true}, engine.Options{MaxInFlight: 30,
		Routes: routes(delivery.HandlerFunc(func(_ context.Context, e *ce.Event) error {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			var d struct {
				N     int    `json:"n"`
				Group string `json:"group"`
			}
			if err := e.DataAs(&d); err != nil {
				return delivery.Permanent(err)
			}
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			order[d.Group] = append(order[d.Group], d.N)
			mu.Unlock()
			return nil
		}))})
	h.send(60, func(i int) string { return fmt.Sprintf("g%d", i%3) })
	eventually(t, 20*time.Second, "queue drained", func() bool { return empty(h.q) })
	for g, ns := range order {
		if len(ns) != 20 {
			t.Errorf("group %s: %d messages, want 20", g, len(ns))
		}
		for i := 1; i < len(ns); i++ {
			if ns[i] <= ns[i-1] {
				t.Fatalf("group %s out of order: %v", g, ns)
			}
		}
	}
	if peak.Load() < 2 {
		t.Errorf("peak concurrency %d: groups were not processed in parallel", peak.Load())
	}
}

func TestFIFOFailureHoldsBackItsGroup(t *testing.T) {
	var mu sync.Mutex
	var order []int
	failed := atomic.Bool{}
	h := start(t, memqueue.Config{FIFO: true, MaxReceiveCount: 5}, engine.Options{
		Backoff: delivery.Backoff{Base: time.Second, Max: time.Second},
		Routes: routes(delivery.HandlerFunc(func(_ context.Context, e *ce.Event) error {
			var d struct{ N int }
			_ = e.DataAs(&d)
			if d.N == 1 && failed.CompareAndSwap(false, true) {
				return errors.New("transient")
			}
			mu.Lock()
			order = append(order, d.N)
			mu.Unlock()
			return nil
		}))})
	h.send(4, func(int) string { return "only" })
	eventually(t, 10*time.Second, "queue drained", func() bool { return empty(h.q) })
	if fmt.Sprint(order) != "[0 1 2 3]" {
		t.Fatalf("order = %v, want [0 1 2 3]: a failed message must hold back the rest of its group", order)
	}
}

func TestBreakerStopsBurningReceiveCounts(t *testing.T) {
	var calls atomic.Int32
	down := atomic.Bool{}
	down.Store(true)
	h := start(t, memqueue.Config{MaxReceiveCount: 100}, engine.Options{
		Backoff: delivery.Backoff{Base: time.Second, Max: time.Second},
		Breaker: engine.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 2 * time.Second},
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
			calls.Add(1)
			if down.Load() {
				return errors.New("database unreachable")
			}
			return nil
		}))})
	h.send(20, nil)
	eventually(t, 5*time.Second, "breaker open", func() bool { return h.eng.Breakers()["all"] == "open" })
	open := calls.Load()
	time.Sleep(1500 * time.Millisecond)
	if c := calls.Load(); c != open {
		t.Fatalf("handler called %d more times while the breaker was open", c-open)
	}
	if got := testutil.ToFloat64(h.m.BreakerState.WithLabelValues("all")); got != 2 {
		t.Errorf("breaker_state = %v, want 2 (open)", got)
	}
	down.Store(false)
	eventually(t, 20*time.Second, "recovered and drained", func() bool { return empty(h.q) })
	if len(h.dlq.Peek()) != 0 {
		t.Error("messages reached the DLQ during an outage")
	}
	if h.eng.Breakers()["all"] != "closed" {
		t.Errorf("breaker = %s after recovery", h.eng.Breakers()["all"])
	}
}

func TestShutdownFinishesInFlightAndFlushesAcks(t *testing.T) {
	started := make(chan struct{}, 100)
	var finished atomic.Int32
	h := start(t, memqueue.Config{VisibilityTimeout: 60 * time.Second}, engine.Options{MaxInFlight: 5, FlushInterval: time.Hour,
		ShutdownGrace: 5 * time.Second,
		Routes: routes(delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			finished.Add(1)
			return nil
		}))})
	h.send(20, nil)
	<-started
	h.stop()
	s := h.q.Stats()
	if s.InFlight != 0 {
		t.Fatalf("%d messages left in flight after shutdown (stats %+v)", s.InFlight, s)
	}
	if got := int(finished.Load()); s.Visible != 20-got {
		t.Fatalf("%d handled and %d visible, want them to add up to 20", got, s.Visible)
	}
	if h.eng.Ready() {
		t.Error("engine still ready after shutdown")
	}
}

func TestControlAndUnrouted(t *testing.T) {
	h := start(t, memqueue.Config{}, engine.Options{Unrouted: delivery.UnroutedDeadLetter,
		Routes: []route.Route[delivery.Handler]{{Name: "orders", Pattern: `{"type": ["order.v1"]}`,
			Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil })}}})
	h.q.Send(`{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:eu-west-1:1:t","MessageId":"m","SubscribeURL":"https://x"}`, nil, "")
	h.q.Send(`{"specversion":"1.0","id":"1","source":"s","type":"other.v1"}`, nil, "")
	eventually(t, 5*time.Second, "settled", func() bool { return empty(h.q) && len(h.dlq.Peek()) == 1 })
	if got := testutil.ToFloat64(h.m.Control.WithLabelValues("sns.SubscriptionConfirmation")); got != 1 {
		t.Errorf("control metric = %v", got)
	}
	if r := h.dlq.Peek()[0].MessageAttributes[delivery.AttrFailureReason]; !strings.Contains(r, "matches no route") {
		t.Errorf("unrouted reason = %q", r)
	}
	snap := h.eng.Snapshot()
	if len(snap.Recent) != 2 || len(snap.Routes) != 1 || !snap.Ready {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestOptionsValidation(t *testing.T) {
	if _, err := engine.New(engine.Options{}); err == nil {
		t.Error("missing source accepted")
	}
	q := memqueue.New(memqueue.Config{Name: "x"})
	if _, err := engine.New(engine.Options{Source: q, Unrouted: "drop"}); err == nil || !strings.Contains(err.Error(), `"drop"`) {
		t.Errorf("bad unrouted policy: %v", err)
	}
	if _, err := engine.New(engine.Options{Source: q, Routes: []route.Route[delivery.Handler]{{Name: "r", Pattern: `{"a":1}`, Handler: delivery.HandlerFunc(nil)}}}); err == nil || !strings.Contains(err.Error(), `route "r"`) {
		t.Errorf("bad pattern: %v", err)
	}
}

func TestBackoffDelays(t *testing.T) {
	b := delivery.Backoff{Base: time.Second, Max: 60 * time.Second}
	for rc := 1; rc <= 12; rc++ {
		ceiling := time.Second << (rc - 1)
		if ceiling > 60*time.Second {
			ceiling = 60 * time.Second
		}
		for range 50 {
			d := b.Delay(rc)
			if d < time.Second || d > ceiling {
				t.Fatalf("Delay(%d) = %v, want within [1s, %v]", rc, d, ceiling)
			}
		}
	}
}

// By default a message the platform cannot understand is dead-lettered, never
// deleted silently, with a reason naming its defect; a well-formed event no
// route wants is deleted (a consumer may take only part of a fan-out).
func TestMalformedMessagesAreDeadLetteredByDefaultWithTheirDefect(t *testing.T) {
	h := start(t, memqueue.Config{}, engine.Options{
		Routes: []route.Route[delivery.Handler]{{Name: "orders", Pattern: `{"type": ["order.v1"]}`,
			Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error { return nil })}}})
	bodies := map[string]string{
		"text":        "lorem ipsum",
		"sns-text":    `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"not json","Timestamp":"2026-12-01T00:00:00Z"}`,
		"eb-no-type":  `{"version":"0","id":"e","source":"s","account":"1","time":"2026-12-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`,
		"bad-version": `{"specversion":"","id":"x","source":"s","type":"order.v1"}`,
	}
	want := map[string]string{"text": "body is text, not JSON", "sns-text": "SNS envelope: Message is not JSON",
		"eb-no-type": "EventBridge envelope: detail-type missing", "bad-version": `specversion: unknown value: ""`}
	for k, b := range bodies {
		h.q.Send(b, map[string]string{"kind": k}, "")
	}
	h.q.Send(`{"specversion":"1.0","id":"w","source":"s","type":"refund.v1"}`, map[string]string{"kind": "well-formed"}, "")
	eventually(t, 5*time.Second, "all dead-lettered", func() bool { return empty(h.q) && len(h.dlq.Peek()) == len(bodies) })
	for _, m := range h.dlq.Peek() {
		k, r := m.MessageAttributes["kind"], m.MessageAttributes[delivery.AttrFailureReason]
		if !strings.Contains(r, want[k]) || strings.TrimSpace(r) != r || strings.Contains(r, "\n") {
			t.Errorf("%s: reason %q, want one line naming %q", k, r, want[k])
		}
	}
}

// sinkOutage runs 30 messages against a sink that is down for outage after
// the breaker opened, and returns how long the queue took to drain after the
// sink came back.
func sinkOutage(t *testing.T, maxReceive int, breaker engine.BreakerSettings, outage time.Duration) (*harness, time.Duration) {
	var down atomic.Bool
	down.Store(true)
	h := start(t, memqueue.Config{MaxReceiveCount: maxReceive, VisibilityTimeout: 30 * time.Second}, engine.Options{
		Backoff: delivery.Backoff{Base: time.Second, Max: time.Second},
		Breaker: breaker,
		Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
			if down.Load() {
				return errors.New("database unreachable")
			}
			return nil
		}))})
	h.send(30, nil)
	eventually(t, 5*time.Second, "breaker open", func() bool { return h.eng.Breakers()["all"] == "open" })
	time.Sleep(outage)
	down.Store(false)
	back := time.Now()
	eventually(t, 40*time.Second, "drained", func() bool { return empty(h.q) })
	return h, time.Since(back)
}

// Probes during a long outage must not spend the receive counts of messages
// that are not processed: twenty probe cycles with maxReceiveCount 4 leave
// the DLQ empty.
func TestLongOutageDeadLettersNothing(t *testing.T) {
	h, _ := sinkOutage(t, 4, engine.BreakerSettings{ConsecutiveFailures: 3, OpenFor: 200 * time.Millisecond}, 4*time.Second)
	if n := len(h.dlq.Peek()); n != 0 {
		t.Fatalf("%d healthy messages dead-lettered by a sink outage of 20 probe cycles", n)
	}
}

// With the default breaker settings, work resumes within seconds of the
// sink's return, not at the next half-minute probe.
func TestRecoveryWithinSecondsOfTheSinksReturn(t *testing.T) {
	_, took := sinkOutage(t, 0, engine.BreakerSettings{}, time.Second)
	if took > 7*time.Second {
		t.Fatalf("drained %v after the sink came back; want within seconds", took.Round(100*time.Millisecond))
	}
}

// A long poll in progress at shutdown does not delay the grace period: the
// consumer exits within max(wait time, grace), not their sum.
func TestShutdownTakesTheLongerOfPollAndGraceNotTheSum(t *testing.T) {
	started := make(chan struct{}, 10)
	h := start(t, memqueue.Config{WaitTime: 3 * time.Second, VisibilityTimeout: time.Minute}, engine.Options{
		MaxInFlight: 20, ReceiveBatch: 10, ShutdownGrace: 2 * time.Second,
		Routes: routes(delivery.HandlerFunc(func(ctx context.Context, _ *ce.Event) error {
			started <- struct{}{}
			select { // a slow sink: longer than the grace period
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return nil
			}
		}))})
	h.send(5, nil)
	for range 5 {
		<-started
	}
	time.Sleep(100 * time.Millisecond) // the second receiver is in its long poll
	begin := time.Now()
	h.stop()
	if took := time.Since(begin); took > 3500*time.Millisecond {
		t.Fatalf("shutdown took %v with a 3s long poll and a 2s grace; want at most max(3s, 2s) + 0.5s", took.Round(100*time.Millisecond))
	}
	if s := h.q.Stats(); s.InFlight != 0 || s.Visible != 5 {
		t.Fatalf("after shutdown: %+v; want the 5 cancelled messages released", s)
	}
}

// A handler that returned success before the grace period ended has its
// message deleted, not released to be handled again.
func TestShutdownDeletesWhatSucceededWithinTheGrace(t *testing.T) {
	started := make(chan struct{}, 10)
	h := start(t, memqueue.Config{VisibilityTimeout: time.Minute}, engine.Options{ShutdownGrace: 2 * time.Second, FlushInterval: time.Hour,
		Routes: routes(delivery.HandlerFunc(func(ctx context.Context, _ *ce.Event) error {
			started <- struct{}{}
			time.Sleep(1500 * time.Millisecond) // finishes inside the grace period
			return nil
		}))})
	h.send(5, nil)
	for range 5 {
		<-started
	}
	h.stop()
	if s := h.q.Stats(); s.Visible+s.InFlight != 0 {
		t.Fatalf("after shutdown: %+v; the 5 messages handled inside the grace must be deleted", s)
	}
}
