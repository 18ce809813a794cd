// Package engine is the consumer runtime: it receives messages from a Source,
// normalizes them into CloudEvents, routes each event to its handlers and
// settles the message — acknowledged only after every handler succeeded,
// retried with exponential backoff, or dead-lettered with its reason.
//
// Data flows one way:
//
//	Source -> normalize -> route -> handler chain -> ack (batched delete)
//	                                              \-> backoff | DLQ | release
//
// The engine depends on the contract in package delivery (Source, Handler,
// Processor) and on the event model; concrete sources (SQS, in-memory) are wired in by main packages.
package engine

import (
	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// BreakerSettings configure the circuit breaker around each route's handler.
type BreakerSettings struct {
	// Disabled turns breakers off.
	Disabled bool
	// ConsecutiveFailures opens the breaker (default 5). Permanent errors
	// (bad events) do not count: they say nothing about the sink.
	ConsecutiveFailures uint32
	// OpenFor is how long an open breaker stays open before letting one
	// probe through (half-open) (default 5s). A probe costs no receive: it
	// re-runs a message the consumer holds.
	OpenFor time.Duration
}

// Options configure an Engine. Zero values take the documented defaults.
type Options struct {
	Source     delivery.Source
	Normalizer event.Normalizer
	Routes     []route.Route[delivery.Handler]
	// FIFO processes messages of one MessageGroupId serially, in order.
	FIFO bool
	// MaxInFlight bounds messages received and not yet settled (default 20).
	MaxInFlight int
	// ReceiveBatch is the most messages asked for per receive (default 10).
	ReceiveBatch int
	// FlushInterval is how long an acknowledgement or visibility change may
	// wait for its batch to fill (default 10ms).
	FlushInterval time.Duration
	// Backoff computes retry delays from the receive count.
	Backoff delivery.Backoff
	// HandlerTimeout bounds one route's handler chain for one event (default 5m).
	HandlerTimeout time.Duration
	// MaxExtension stops visibility heartbeats once a message has been held
	// this long (default 1h), so a stuck handler cannot hold it forever.
	MaxExtension time.Duration
	// ShutdownGrace is how long in-flight work may finish after shutdown
	// starts (default 25s); keep it below the pod's terminationGracePeriod.
	ShutdownGrace time.Duration
	// Unrouted is the policy for events that match no route (default
	// UnroutedMalformed: a message the platform could not understand is
	// dead-lettered with a reason naming its defect, never dropped).
	Unrouted delivery.Unrouted
	// Breaker configures the per-route circuit breakers.
	Breaker BreakerSettings
	// Middlewares wrap every route's handler (inside the breaker).
	Middlewares []delivery.Middleware
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	Tracer      trace.TracerProvider
}

func (o *Options) defaults() error {
	if o.Source == nil {
		return errors.New("engine: Source is required")
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 20
	}
	if o.ReceiveBatch <= 0 || o.ReceiveBatch > delivery.MaxBatch {
		o.ReceiveBatch = delivery.MaxBatch
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	if o.HandlerTimeout <= 0 {
		o.HandlerTimeout = 5 * time.Minute
	}
	if o.MaxExtension <= 0 {
		o.MaxExtension = time.Hour
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 25 * time.Second
	}
	switch o.Unrouted {
	case "":
		o.Unrouted = delivery.UnroutedMalformed
	default:
		if err := o.Unrouted.Check(); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
	}
	if o.Breaker.ConsecutiveFailures == 0 {
		o.Breaker.ConsecutiveFailures = 5
	}
	if o.Breaker.OpenFor <= 0 {
		o.Breaker.OpenFor = 5 * time.Second
	}
	if o.Metrics == nil {
		o.Metrics = metrics.New()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider()
	}
	return nil
}

// bound is a route's handler with its decorations: the middlewares inside
// the circuit breaker, whose open state becomes Unavailable.
type bound struct {
	name    string
	handler delivery.Handler
	breaker *gobreaker.CircuitBreaker[struct{}]
	eng     *Engine
	probe   atomic.Bool // a held message is probing the half-open breaker
	// The route's series, resolved once rather than per event.
	duration  prometheus.Observer
	processed prometheus.Counter
}

// observer feeds the processor's measurements to the route series.
type observer map[string]*bound

func (o observer) Handled(route string, took time.Duration, err error) {
	b := o[route]
	if b == nil {
		return
	}
	b.duration.Observe(took.Seconds())
	if err == nil {
		b.processed.Inc()
	}
}

// Engine runs one consumer. Create it with New and call Run once.
type Engine struct {
	opt      Options
	src      delivery.Source
	proc     *delivery.Processor
	breakers []*gobreaker.CircuitBreaker[struct{}]
	log      *slog.Logger
	m        *metrics.Metrics

	acks      *batcher[string]
	vis       *batcher[delivery.VisibilityChange]
	sem       chan struct{}
	acquireMu sync.Mutex

	ready    atomic.Bool
	started  chan struct{} // closed at the first answered receive
	startOne sync.Once
	stopping atomic.Bool
	held     atomic.Int32 // messages waiting for an open breaker
	probing  atomic.Bool  // gate let one message through to a half-open breaker
	inflight sync.WaitGroup
	hctx     context.Context // handlers' context: outlives Run's until the grace period ends

	laneMu sync.Mutex
	lanes  map[string]*lane

	// Workers handle messages and then wait for the next one instead of
	// exiting: a fresh goroutine per message starts on a small stack and
	// regrows it through the JSON decoders on every message (runtime.
	// copystack was 13% of the consumer's CPU in the ElasticMQ benchmark).
	// At most MaxInFlight exist (each idle one is a free slot); they exit
	// when Run returns.
	work     chan delivery.Message
	quit     chan struct{}
	quitOnce sync.Once

	debug *debugState
}

// New validates the options, compiles the routes and wraps every handler.
func New(opt Options) (*Engine, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	opt.Metrics.InFlightLimit.Set(float64(opt.MaxInFlight))
	e := &Engine{
		opt:     opt,
		work:    make(chan delivery.Message),
		quit:    make(chan struct{}),
		src:     opt.Source,
		log:     opt.Logger,
		m:       opt.Metrics,
		sem:     make(chan struct{}, opt.MaxInFlight),
		lanes:   map[string]*lane{},
		debug:   newDebugState(),
		started: make(chan struct{}),
	}
	var routes []route.Route[delivery.Handler]
	obs := observer{}
	for _, rt := range opt.Routes {
		if rt.Handler == nil {
			return nil, fmt.Errorf("engine: route %q has no handler", rt.Name)
		}
		b := &bound{name: rt.Name, handler: delivery.Chain(rt.Handler, opt.Middlewares...),
			duration: opt.Metrics.HandlerDuration.WithLabelValues(rt.Name), processed: opt.Metrics.Processed.WithLabelValues(rt.Name)}
		b.eng = e
		if !opt.Breaker.Disabled {
			b.breaker = e.newBreaker(rt.Name)
			e.breakers = append(e.breakers, b.breaker)
		}
		obs[rt.Name] = b
		routes = append(routes, route.Route[delivery.Handler]{Name: rt.Name, Pattern: rt.Pattern, Handler: b})
		e.debug.routes = append(e.debug.routes, RouteInfo{Name: rt.Name, Pattern: rt.Pattern})
	}
	proc, err := delivery.NewProcessor(delivery.ProcessorOptions{Normalizer: opt.Normalizer, Routes: routes, HandlerTimeout: opt.HandlerTimeout,
		Unrouted: opt.Unrouted, Backoff: opt.Backoff, Tracer: opt.Tracer, Observer: obs})
	if err != nil {
		return nil, err
	}
	e.proc = proc
	e.acks = newBatcher(opt.FlushInterval, e.flushAcks)
	e.vis = newBatcher(opt.FlushInterval, e.flushVisibility)
	return e, nil
}

func (e *Engine) newBreaker(name string) *gobreaker.CircuitBreaker[struct{}] {
	st := e.m.BreakerState.WithLabelValues(name)
	st.Set(0)
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     e.opt.Breaker.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= e.opt.Breaker.ConsecutiveFailures
		},
		IsSuccessful: func(err error) bool {
			return err == nil || delivery.IsPermanent(err) || errors.Is(err, delivery.ErrSkip)
		},
		IsExcluded: func(err error) bool {
			_, later := delivery.RetryDelay(err) // e.g. a busy idempotency key: not the sink's health
			return later || errors.Is(err, context.Canceled)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			st.Set(float64(to))
			e.log.Warn("circuit breaker changed state", "breaker", name, "from", from.String(), "to", to.String())
		},
	})
}

// Ready reports whether the source has answered a receive successfully and
// the engine is not shutting down.
func (e *Engine) Ready() bool { return e.ready.Load() && !e.stopping.Load() }

// Started is closed once the source has first answered a receive: wait on
// it (beside a deadline or ctx) rather than polling Ready.
func (e *Engine) Started() <-chan struct{} { return e.started }

// Run receives and processes messages until ctx is cancelled, then shuts
// down gracefully: it stops receiving, lets in-flight work finish within the
// grace period, releases messages it had not started, flushes pending
// acknowledgements and returns nil.
func (e *Engine) Run(ctx context.Context) error {
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	defer e.quitOnce.Do(func() { close(e.quit) })
	e.hctx = hctx
	// Polls outlive ctx (a long poll cut short may already have taken
	// messages, which would then stay invisible for a visibility timeout) but
	// not the grace period, which runs alongside them: shutdown takes
	// max(wait time, grace), not their sum.
	pctx, cancelPolls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPolls()
	receivers := (e.opt.MaxInFlight + e.opt.ReceiveBatch - 1) / e.opt.ReceiveBatch
	receivers = min(max(receivers, 1), 8)
	var rwg sync.WaitGroup
	for range receivers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			e.receiveLoop(ctx, pctx)
		}()
	}
	<-ctx.Done()
	e.stopping.Store(true)
	e.log.Info("shutting down: receiving stops, waiting for in-flight work", "grace", e.opt.ShutdownGrace.String())

	done := make(chan struct{})
	go func() { rwg.Wait(); e.inflight.Wait(); close(done) }() // receivers first: they add to inflight
	select {
	case <-done:
	case <-time.After(e.opt.ShutdownGrace):
		e.log.Warn("grace period over: cancelling polls and handlers; their messages are released")
		cancelPolls()
		cancelHandlers()
		<-done
	}
	e.acks.close()
	e.vis.close()
	err := e.closeHandlers()
	e.log.Info("shutdown complete")
	return err
}

// closeHandlers closes, once each, the routes' handlers that hold resources
// (a Close() error method: the SQL handler's pool, the archive's pending
// batches and their timers). Run calls it after the last Handle returned.
func (e *Engine) closeHandlers() error {
	var errs []error
	var closed []io.Closer
	for _, rt := range e.opt.Routes {
		c, ok := rt.Handler.(io.Closer)
		if !ok || (reflect.TypeOf(c).Comparable() && slices.Contains(closed, c)) {
			continue
		}
		closed = append(closed, c)
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("route %s: close handler: %w", rt.Name, err))
		}
	}
	return errors.Join(errs...)
}

// acquire takes n in-flight slots, blocking until all are free: asking for a
// full batch each time is what keeps receives at one per ten messages. One
// receiver acquires at a time, so receivers holding partial sets can never
// wait on each other.
func (e *Engine) acquire(ctx context.Context, n int) int {
	n = min(n, e.opt.MaxInFlight)
	e.acquireMu.Lock()
	defer e.acquireMu.Unlock()
	for got := 0; got < n; got++ {
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			e.releaseSlots(got)
			return 0
		}
	}
	return n
}

func (e *Engine) releaseSlots(n int) {
	for range n {
		<-e.sem
	}
}

// gate waits while a breaker is open and returns how many messages may be
// received: while a breaker is half-open, none if a held message will probe
// it, else one message for one receiver.
func (e *Engine) gate(ctx context.Context, want int) int {
	for {
		open, half := false, false
		for _, b := range e.breakers {
			switch b.State() {
			case gobreaker.StateOpen:
				open = true
			case gobreaker.StateHalfOpen:
				half = true
			}
		}
		if !open && !half {
			return want
		}
		if !open && e.held.Load() == 0 && e.probing.CompareAndSwap(false, true) {
			return 1
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// receiveLoop receives until ctx ends; pctx bounds the receive calls.
func (e *Engine) receiveLoop(ctx, pctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		n := e.gate(ctx, e.opt.ReceiveBatch)
		if n == 0 {
			return
		}
		n = e.acquire(ctx, n)
		if n == 0 {
			return
		}
		// The receive is not cancelled by shutdown, only at the grace
		// period's end (see Run); what it brings after shutdown began is
		// released below.
		msgs, err := e.src.Receive(pctx, n)
		if err != nil {
			e.releaseSlots(n)
			if ctx.Err() != nil {
				return
			}
			failures++
			e.ready.Store(false)
			wait := min(time.Duration(failures)*time.Second, 30*time.Second)
			e.log.Error("receive failed", "error", err, "retry_in", wait.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		failures = 0
		e.ready.Store(true)
		e.startOne.Do(func() { close(e.started) })
		e.releaseSlots(n - len(msgs))
		if len(msgs) == 0 {
			continue
		}
		e.m.Received.Add(float64(len(msgs)))
		e.m.ReceiveBatch.Observe(float64(len(msgs)))
		e.inflight.Add(len(msgs))
		if ctx.Err() != nil {
			for _, m := range msgs {
				e.release(m)
				e.settled()
			}
			return
		}
		for _, m := range msgs {
			if e.opt.FIFO && m.GroupID != "" {
				e.enqueue(ctx, m)
				continue
			}
			e.dispatch(m)
		}
	}
}

// dispatch hands m to an idle worker or starts one.
func (e *Engine) dispatch(m delivery.Message) {
	select {
	case e.work <- m:
	default:
		go e.worker(m)
	}
}

func (e *Engine) worker(m delivery.Message) {
	for {
		func() {
			defer e.settled()
			e.handle(m)
		}()
		select {
		case m = <-e.work:
		case <-e.quit:
			return
		}
	}
}

// settled frees the slot of a message that was acknowledged, retried,
// dead-lettered or released.
func (e *Engine) settled() {
	e.probing.Store(false) // a probe received by gate has been settled (or it was not one)
	<-e.sem
	e.inflight.Done()
}

// lane runs one FIFO message group's messages one after the other.
type lane struct{ msgs []delivery.Message }

func (e *Engine) enqueue(ctx context.Context, m delivery.Message) {
	e.laneMu.Lock()
	l, running := e.lanes[m.GroupID]
	if !running {
		l = &lane{}
		e.lanes[m.GroupID] = l
	}
	l.msgs = append(l.msgs, m)
	e.laneMu.Unlock()
	if !running {
		go e.runLane(ctx, m.GroupID, l)
	}
}

func (e *Engine) runLane(ctx context.Context, group string, l *lane) {
	for {
		e.laneMu.Lock()
		if len(l.msgs) == 0 {
			delete(e.lanes, group)
			e.laneMu.Unlock()
			return
		}
		m := l.msgs[0]
		l.msgs = l.msgs[1:]
		e.laneMu.Unlock()

		if ctx.Err() != nil {
			e.release(m) // shutting down: not started
			e.settled()
			continue
		}
		ok := e.handle(m)
		e.settled()
		if !ok {
			// A failed message holds back the rest of its group: release
			// them so that they come back after it, in order.
			e.laneMu.Lock()
			rest := l.msgs
			l.msgs = nil
			e.laneMu.Unlock()
			for _, r := range rest {
				e.release(r)
				e.settled()
			}
		}
	}
}

// release makes a message visible again at once, without counting a failure.
func (e *Engine) release(m delivery.Message) {
	e.m.Released.Inc()
	e.vis.add(delivery.VisibilityChange{Receipt: m.Receipt, Timeout: 0})
}

func (e *Engine) ack(m delivery.Message) {
	e.acks.add(m.Receipt)
}

func (e *Engine) flushAcks(ctx context.Context, receipts []string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e.m.DeleteBatch.Observe(float64(len(receipts)))
	if err := e.src.Delete(ctx, receipts); err != nil {
		// The messages will be redelivered after their visibility timeout;
		// handlers are idempotent, so this costs work, not correctness.
		e.log.Error("delete failed; messages will be redelivered", "error", err, "count", len(receipts))
	}
}

func (e *Engine) flushVisibility(ctx context.Context, changes []delivery.VisibilityChange) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := e.src.ChangeVisibility(ctx, changes); err != nil {
		e.log.Error("visibility change failed; messages reappear at their current timeout", "error", err, "count", len(changes))
	}
}

// Breakers reports each route breaker's state.
func (e *Engine) Breakers() map[string]string {
	out := map[string]string{}
	for _, b := range e.breakers {
		out[b.Name()] = b.State().String()
	}
	return out
}
