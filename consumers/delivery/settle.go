package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/route"
)

// This file is the one settlement path: Processor.Process decides, for a
// batch of messages, what to acknowledge, retry (with a delay) and
// dead-letter. The consumer engine, the lambda-sqs and lambda-files
// functions and the local platform's function targets all call it and only
// carry out its decisions, so timeouts, idempotency (a middleware),
// tracing and failure classification are the same everywhere. It depends on
// the event model, the router and the OpenTelemetry API only (no
// Prometheus, no breaker library): metrics come in through an Observer.

// Outcome is what to do with a message once it was processed.
type Outcome int

// Outcomes.
const (
	// Ack: every route's handler succeeded (or it was a duplicate, a control
	// message or unrouted under the ack policy): delete the message.
	Ack Outcome = iota
	// Retry: a retryable failure: make the message visible again after
	// Settlement.Delay; the queue's redrive policy counts the attempt.
	Retry
	// DeadLetter: retrying cannot help: send the message to the dead-letter
	// queue with Settlement.Reason, then delete it.
	DeadLetter
	// Release: not a failure of the message (shutdown, an unavailable sink,
	// a FIFO batch held back behind a failure): make it visible at once.
	Release
)

func (o Outcome) String() string {
	return [...]string{"ack", "retry", "dead-letter", "release"}[o]
}

// Failure kinds of a Settlement (the values of the metrics' reason label).
const (
	KindRetryable   = "retryable"
	KindPermanent   = "permanent"
	KindUndecodable = "undecodable"
	KindUnrouted    = "unrouted"
	KindTimeout     = "timeout"
	KindUnavailable = "breaker_open"
	KindShutdown    = "shutdown"
	KindHeldBack    = "held_back"
	// KindBusy: another worker holds the event (RetryAfter); retried when
	// its claim ends.
	KindBusy = "busy"
)

// Settlement is the decision about one message.
type Settlement struct {
	Outcome Outcome
	// Delay before a retried message is visible again.
	Delay time.Duration
	// Kind classifies a failure ("" on Ack).
	Kind string
	// Reason is the dead-letter reason, "<kind>: <error>".
	Reason string
	// Err is the failure, if any.
	Err error
	// Route is the route whose handler failed.
	Route string
	// Event is the last event of the message that was processed (nil when
	// the message was undecodable, a control message or not processed).
	Event *ce.Event
	// Routes are the routes the last event matched.
	Routes []string
	// Control is set for platform control messages (acknowledged).
	Control *event.Control
	// Duplicates counts events a middleware skipped (ErrSkip).
	Duplicates int
	// Unrouted counts events that matched no route.
	Unrouted int
	// TraceID is the trace of the last handler span (invalid without
	// tracing). It stays 16 bytes until a log line or the debug page formats
	// it: most settlements are never shown.
	TraceID trace.TraceID
}

// Observer receives the processor's measurements (the engine feeds them to
// Prometheus). Implementations must be safe for concurrent use.
type Observer interface {
	// Handled reports one route's handler chain run for one event.
	Handled(route string, took time.Duration, err error)
}

// ProcessorOptions configure a Processor. Zero values take the defaults.
type ProcessorOptions struct {
	Normalizer event.Normalizer
	Routes     []route.Route[Handler]
	// HandlerTimeout bounds one route's handler chain for one event (default 5m).
	HandlerTimeout time.Duration
	// Unrouted is the policy for events that match no route (default
	// UnroutedMalformed: what the platform could not understand is
	// dead-lettered with a reason naming its defect; ack is explicit).
	Unrouted Unrouted
	// Backoff computes retry delays from the receive count.
	Backoff Backoff
	// Tracer makes the spans (default none).
	Tracer trace.TracerProvider
	// Observer gets measurements (default none).
	Observer Observer
	// System is the messaging.system span attribute (default aws_sqs).
	System string
}

// Processor processes messages and decides how each one is settled. It is
// safe for concurrent use.
type Processor struct {
	opt        ProcessorOptions
	router     *route.Router[*target]
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	// spanStart are the options of every handler span, made once.
	spanStart []trace.SpanStartOption
	// system, operation type and name: the attributes every span shares.
	static [3]attribute.KeyValue
	// source is the last event source formatted for a span attribute.
	source atomic.Pointer[formattedSource]
}

// target is a route's handler with what its spans share, made once per
// route rather than per event.
type target struct {
	Handler
	// spanName is "process <route>".
	spanName string
	// routeValue is the route name boxed once for the handler's context.
	routeValue any
	// routeAttr is eventplane.route.
	routeAttr attribute.KeyValue
}

// NewProcessor validates the options and compiles the routes.
func NewProcessor(opt ProcessorOptions) (*Processor, error) {
	if opt.HandlerTimeout <= 0 {
		opt.HandlerTimeout = 5 * time.Minute
	}
	switch opt.Unrouted {
	case "":
		opt.Unrouted = UnroutedMalformed
	default:
		if err := opt.Unrouted.Check(); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	if opt.Tracer == nil {
		opt.Tracer = noop.NewTracerProvider()
	}
	if opt.System == "" {
		opt.System = semconv.MessagingSystemAWSSQS.Value.AsString()
	}
	routes := make([]route.Route[*target], len(opt.Routes))
	for i, rt := range opt.Routes {
		if rt.Handler == nil {
			return nil, fmt.Errorf("engine: route %q has no handler", rt.Name)
		}
		routes[i] = route.Route[*target]{Name: rt.Name, Pattern: rt.Pattern, Handler: &target{Handler: rt.Handler,
			spanName: "process " + rt.Name, routeValue: rt.Name, routeAttr: attribute.String("eventplane.route", rt.Name)}}
	}
	r, err := route.NewRouter(routes...)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &Processor{opt: opt, router: r,
		tracer:     opt.Tracer.Tracer("github.com/eventplane/eventplane/consumers/delivery"),
		propagator: propagation.NewCompositeTextMapPropagator(xray.Propagator{}, propagation.TraceContext{}),
		spanStart:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)},
		static: [3]attribute.KeyValue{semconv.MessagingSystemKey.String(opt.System), semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process")},
	}, nil
}

// Process processes a batch in order and returns one Settlement per
// message. On a FIFO batch it stops at the first message that is not
// acknowledged: every later message is released unprocessed (Lambda's rule
// for FIFO partial batch responses: report the failure and everything after
// it, so the group's order holds). Cancelling ctx cancels the handlers; what
// fails then is released, not retried.
func (p *Processor) Process(ctx context.Context, batch []Message, fifo bool) []Settlement {
	out := make([]Settlement, len(batch))
	for i := range batch {
		out[i] = p.One(ctx, batch[i])
		if fifo && out[i].Outcome != Ack {
			for j := i + 1; j < len(batch); j++ {
				out[j] = Settlement{Outcome: Release, Kind: KindHeldBack,
					Err: fmt.Errorf("held back behind message %s of the FIFO batch", batch[i].MessageID)}
			}
			break
		}
	}
	return out
}

// One processes one message.
func (p *Processor) One(ctx context.Context, m Message) Settlement {
	events, ctl, err := p.opt.Normalizer.Normalize(nil, m.Message)
	if err != nil {
		return deadLetter(KindUndecodable, err)
	}
	if ctl != nil {
		return Settlement{Outcome: Ack, Control: ctl}
	}
	var s Settlement
	var buf [8]*route.Route[*target]
	for i := range events {
		ev := &events[i]
		routes := p.router.Match(ev, buf[:0])
		s.Event, s.Routes = ev, s.Routes[:0]
		if len(routes) == 0 {
			s.Unrouted++
			defect := ""
			if p.opt.Unrouted != UnroutedAck {
				defect = event.Defect(ev, p.opt.Normalizer.FallbackType)
			}
			if p.opt.Unrouted == UnroutedDeadLetter || defect != "" {
				why := "event " + ev.ID() + " of type " + ev.Type() + " matches no route"
				if defect != "" {
					why = defect + " (" + why + ")"
				}
				d := deadLetter(KindUnrouted, errors.New(why))
				d.Event, d.Unrouted, d.Duplicates = ev, s.Unrouted, s.Duplicates
				return d
			}
			continue
		}
		for _, rt := range routes {
			s.Routes = append(s.Routes, rt.Name)
		}
		for _, rt := range routes {
			traceID, err := p.call(ctx, rt, ev, m)
			if traceID.IsValid() {
				s.TraceID = traceID
			}
			if err == nil {
				continue
			}
			if errors.Is(err, ErrSkip) {
				s.Duplicates++
				continue
			}
			f := p.fail(ctx, m, err)
			f.Route, f.Event, f.Routes, f.TraceID = rt.Name, ev, s.Routes, s.TraceID
			f.Duplicates, f.Unrouted = s.Duplicates, s.Unrouted
			return f
		}
	}
	s.Outcome = Ack
	return s
}

// fail classifies a handler failure.
func (p *Processor) fail(ctx context.Context, m Message, err error) Settlement {
	switch {
	case IsUnavailable(err):
		return Settlement{Outcome: Release, Kind: KindUnavailable, Err: err}
	case ctx.Err() != nil:
		return Settlement{Outcome: Release, Kind: KindShutdown, Err: err}
	case IsPermanent(err):
		return deadLetter(KindPermanent, err)
	}
	if d, ok := RetryDelay(err); ok {
		// A first delivery that finds its event busy is most likely a copy
		// delivered alongside the original, whose worker is about to finish:
		// retried after the backoff delay. A redelivery (its first receiver
		// may have crashed) waits for the time asked for, spending no more
		// receives in between.
		if m.ReceiveCount <= 1 {
			d = min(d, p.opt.Backoff.Delay(m.ReceiveCount))
		}
		return Settlement{Outcome: Retry, Kind: KindBusy, Err: err, Delay: min(max(d, time.Second), maxVisibility)}
	}
	kind := KindRetryable
	if errors.Is(err, context.DeadlineExceeded) {
		kind = KindTimeout
	}
	return Settlement{Outcome: Retry, Kind: kind, Err: err, Delay: p.opt.Backoff.Delay(m.ReceiveCount)}
}

func deadLetter(kind string, err error) Settlement {
	reason := kind + ": " + strings.TrimPrefix(err.Error(), kind+": ") // "permanent: x", not "permanent: permanent: x"
	reason = strings.Join(strings.Fields(reason), " ")                 // one line: no trailing newline from a wrapped error
	return Settlement{Outcome: DeadLetter, Kind: kind, Err: err, Reason: reason}
}

// call runs one route's handler chain for one event, in a span that
// continues the message's upstream trace, and returns the span's trace id.
func (p *Processor) call(ctx context.Context, rt *route.Route[*target], ev *ce.Event, m Message) (trace.TraceID, error) {
	t := rt.Handler
	ctx = withRoute(p.traceContext(ctx, ev, m), t.routeValue)
	ctx, span := p.tracer.Start(ctx, t.spanName, p.spanStart...)
	defer span.End()
	if span.IsRecording() { // no attribute work when tracing is off or the trace is not sampled
		span.SetAttributes(
			p.static[0], p.static[1], p.static[2],
			semconv.MessagingMessageID(m.MessageID),
			semconv.MessagingDestinationName(queueName(m.QueueARN)),
			attribute.Int("eventplane.receive_count", m.ReceiveCount),
			semconv.CloudEventsEventID(ev.ID()),
			semconv.CloudEventsEventSource(p.sourceOf(ev)),
			semconv.CloudEventsEventType(ev.Type()),
			t.routeAttr,
		)
	}
	traceID := span.SpanContext().TraceID()
	ctx, cancel := withTimeout(ctx, p.opt.HandlerTimeout) // a timer only for a handler that waits on it
	defer cancel()
	start := time.Now()
	err := t.Handle(ctx, ev)
	if p.opt.Observer != nil {
		p.opt.Observer.Handled(rt.Name, time.Since(start), err)
	}
	if err != nil && !errors.Is(err, ErrSkip) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return traceID, err
}

// formattedSource is an event source and its string form.
type formattedSource struct {
	u url.URL
	s string
}

// sourceOf is the event's source as a string. A queue's events mostly share
// one source: the last one formatted is kept, so that the span attribute
// does not format the URI reference again for every event (url.URL.String
// allocates).
func (p *Processor) sourceOf(ev *ce.Event) string {
	ec, ok := ev.Context.(*ce.EventContextV1)
	if !ok {
		return ev.Source()
	}
	if f := p.source.Load(); f != nil && f.u == ec.Source.URL {
		return f.s
	}
	f := &formattedSource{u: ec.Source.URL, s: ec.Source.String()}
	p.source.Store(f)
	return f.s
}

// traceContext extracts the upstream trace of a message: the X-Ray
// AWSTraceHeader system attribute (what EventBridge, SNS and SQS carry), or
// the event's traceparent extension. A message with neither has no upstream
// trace: ctx as it is, with nothing to parse.
func (p *Processor) traceContext(ctx context.Context, ev *ce.Event, m Message) context.Context {
	c := traceCarrier{xray: m.Attributes["AWSTraceHeader"]}
	if c.traceparent = extension(ev, event.ExtTraceParent); c.traceparent != "" {
		c.tracestate = extension(ev, event.ExtTraceState)
	}
	if c.xray == "" && c.traceparent == "" {
		return ctx
	}
	return p.propagator.Extract(ctx, c)
}

// traceCarrier is the carrier of traceContext: the three headers the X-Ray
// and W3C propagators read, as fields rather than a map made per event.
type traceCarrier struct{ xray, traceparent, tracestate string }

func (c traceCarrier) Get(key string) string {
	switch key {
	case "X-Amzn-Trace-Id":
		return c.xray
	case "traceparent":
		return c.traceparent
	case "tracestate":
		return c.tracestate
	}
	return ""
}

// Set is never called: the carrier is only extracted from.
func (traceCarrier) Set(string, string) {}

func (c traceCarrier) Keys() []string {
	keys := make([]string, 0, 3)
	for _, k := range [...]struct{ k, v string }{{"X-Amzn-Trace-Id", c.xray}, {"traceparent", c.traceparent}, {"tracestate", c.tracestate}} {
		if k.v != "" {
			keys = append(keys, k.k)
		}
	}
	return keys
}

// queueName is the last part of a queue ARN.
func queueName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// unavailableError marks a sink that is unavailable.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// Unavailable marks err as the sink being unavailable (an open circuit
// breaker): the message is released, not counted as an attempt.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return &unavailableError{err}
}

// IsUnavailable reports whether err was marked Unavailable.
func IsUnavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// Invocation settles one asynchronous Lambda invocation (an EventBridge
// event or S3 notification as the function receives it) with the same
// decisions: nil when acknowledged; a dead-letter decision is handed to
// deadLetter with its reason and the function succeeds, so Lambda does not
// retry what retrying cannot fix (deadLetter nil, or failing: the error, so
// Lambda's retries and on-failure destination keep the event); anything
// else is an error, which Lambda retries by the function's asynchronous
// invocation policy.
func (p *Processor) Invocation(ctx context.Context, payload []byte, deadLetter func(ctx context.Context, reason string) error) error {
	s := p.One(ctx, Message{Message: event.Message{Body: string(payload)}})
	switch s.Outcome {
	case Ack:
		return nil
	case DeadLetter:
		if deadLetter == nil {
			return errors.New(s.Reason)
		}
		if err := deadLetter(ctx, s.Reason); err != nil {
			return fmt.Errorf("%s (and the dead-letter queue failed: %w)", s.Reason, err)
		}
		return nil
	}
	return fmt.Errorf("%s: %w", s.Kind, s.Err)
}

// extension reads a string extension without copying the extension map
// (Event.Extensions returns a copy).
func extension(ev *ce.Event, name string) string {
	if ec, ok := ev.Context.(*ce.EventContextV1); ok {
		v, _ := ec.Extensions[name].(string)
		return v
	}
	v, _ := ev.Extensions()[name].(string)
	return v
}
