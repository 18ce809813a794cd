package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// handle processes one message and settles it. It reports whether the
// message was acknowledged (processed, skipped or a control message).
func (e *Engine) handle(m Message) bool {
	e.m.InFlight.Inc()
	defer e.m.InFlight.Dec()
	start := time.Now()
	e.debug.begin(m, start)
	defer e.debug.end(m.Receipt)
	stop := e.heartbeat(m)
	defer stop()

	events, ctl, err := e.opt.Normalizer.Normalize(nil, m.Message)
	if err != nil {
		e.m.Failed.WithLabelValues(metrics.ReasonUndecodable).Inc()
		e.deadLetter(m, metrics.ReasonUndecodable, err)
		e.debug.record(m, nil, nil, "dead-lettered: "+err.Error(), start)
		return false
	}
	if ctl != nil {
		e.m.Control.WithLabelValues(string(ctl.Kind)).Inc()
		e.log.Info("control message acknowledged", "kind", ctl.Kind, "source", ctl.Source, "message_id", m.MessageID)
		e.ack(m)
		e.debug.record(m, nil, nil, "control: "+string(ctl.Kind), start)
		return true
	}
	var buf [8]*route.Route[*bound]
	for i := range events {
		ev := &events[i]
		routes := e.router.Match(ev, buf[:0])
		if len(routes) == 0 {
			e.m.Unrouted.Inc()
			if e.opt.Unrouted == UnroutedDeadLetter {
				e.m.Failed.WithLabelValues(metrics.ReasonUnrouted).Inc()
				why := "event " + ev.ID() + " of type " + ev.Type() + " matches no route"
				if d := event.Defect(ev, e.opt.Normalizer.FallbackType); d != "" {
					why = d + " (" + why + ")"
				}
				e.deadLetter(m, metrics.ReasonUnrouted, errors.New(why))
				e.debug.record(m, ev, nil, "dead-lettered: unrouted", start)
				return false
			}
			e.debug.record(m, ev, nil, "unrouted", start)
			continue
		}
		for _, rt := range routes {
			if sc, err := e.call(rt, ev, m); err != nil && !errors.Is(err, ErrSkip) {
				outcome := e.fail(m, rt.Name, ev, sc, err)
				e.debug.record(m, ev, routes, outcome, start)
				return false
			} else if err != nil {
				e.m.Duplicates.Inc()
			}
		}
		e.debug.record(m, ev, routes, "processed", start)
	}
	e.ack(m)
	return true
}

// call runs one route's handler chain for one event, in a span that continues
// the event's upstream trace, and returns the span's context.
func (e *Engine) call(rt *route.Route[*bound], ev *ce.Event, m Message) (trace.SpanContext, error) {
	ctx := withRoute(e.traceContext(e.hctx, ev, m), rt.Name)
	ctx, span := e.tracer.Start(ctx, "process "+rt.Name, trace.WithSpanKind(trace.SpanKindConsumer))
	defer span.End()
	if span.IsRecording() { // no attribute work when tracing is off or the trace is not sampled
		span.SetAttributes(
			attribute.String("messaging.system", "aws_sqs"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.message.id", m.MessageID),
			attribute.Int("eventplane.receive_count", m.ReceiveCount),
			attribute.String("cloudevents.event_id", ev.ID()),
			attribute.String("cloudevents.event_source", ev.Source()),
			attribute.String("cloudevents.event_type", ev.Type()),
			attribute.String("eventplane.route", rt.Name),
		)
	}
	sc := span.SpanContext()
	ctx, cancel := context.WithTimeout(ctx, e.opt.HandlerTimeout)
	defer cancel()

	b := rt.Handler
	start := time.Now()
	var err error
	if b.breaker != nil {
		_, err = b.breaker.Execute(func() (struct{}, error) { return struct{}{}, b.handler.Handle(ctx, ev) })
	} else {
		err = b.handler.Handle(ctx, ev)
	}
	b.duration.Observe(time.Since(start).Seconds())
	if err == nil {
		b.processed.Inc()
		return sc, nil
	}
	if !errors.Is(err, ErrSkip) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return sc, err
}

// fail settles a message whose handler failed and returns the outcome.
func (e *Engine) fail(m Message, routeName string, ev *ce.Event, sc trace.SpanContext, err error) string {
	log := e.log.With("route", routeName, "event_id", ev.ID(), "event_type", ev.Type(),
		"message_id", m.MessageID, "receive_count", m.ReceiveCount, "error", err.Error())
	if sc.HasTraceID() {
		log = log.With("trace_id", sc.TraceID().String())
	}
	switch {
	case errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests):
		e.m.Failed.WithLabelValues(metrics.ReasonBreakerOpen).Inc()
		e.release(m)
		log.Warn("breaker open: message released")
		return "released: breaker open"
	case e.hctx.Err() != nil:
		e.release(m)
		log.Warn("shutdown: handler cancelled, message released")
		return "released: shutdown"
	case IsPermanent(err):
		e.m.Failed.WithLabelValues(metrics.ReasonPermanent).Inc()
		e.deadLetter(m, metrics.ReasonPermanent, err)
		log.Error("permanent failure: message dead-lettered")
		return "dead-lettered: " + err.Error()
	}
	if d, ok := RetryDelay(err); ok {
		e.m.Failed.WithLabelValues(metrics.ReasonBusy).Inc()
		e.m.Retried.Inc()
		d = min(max(d, time.Second), maxVisibility)
		e.vis.add(VisibilityChange{Receipt: m.Receipt, Timeout: d})
		log.Info("message will be retried later", "retry_in", d.String())
		return "retry in " + d.String() + ": " + err.Error()
	}
	reason := metrics.ReasonRetryable
	if errors.Is(err, context.DeadlineExceeded) {
		reason = metrics.ReasonTimeout
	}
	e.m.Failed.WithLabelValues(reason).Inc()
	e.retry(m)
	log.Warn("handler failed: message will be retried")
	return "retry: " + err.Error()
}

// retry hands the message back to the queue after a backoff delay; the
// queue's redrive policy moves it to the DLQ after maxReceiveCount receives.
func (e *Engine) retry(m Message) {
	e.m.Retried.Inc()
	e.vis.add(VisibilityChange{Receipt: m.Receipt, Timeout: e.opt.Backoff.Delay(m.ReceiveCount)})
}

// deadLetter sends m to the DLQ with its reason and acknowledges it. If the
// DLQ cannot be reached the message is retried instead, so nothing is lost.
func (e *Engine) deadLetter(m Message, kind string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reason := kind + ": " + strings.TrimPrefix(cause.Error(), kind+": ") // "permanent: x", not "permanent: permanent: x"
	reason = strings.Join(strings.Fields(reason), " ")                   // one line: no trailing newline from a wrapped error
	if err := e.src.DeadLetter(ctx, m, reason); err != nil {
		e.log.Error("dead-letter queue unreachable; message will be retried", "error", err, "message_id", m.MessageID)
		e.retry(m)
		return
	}
	e.m.DeadLettered.WithLabelValues(kind).Inc()
	e.log.Warn("message dead-lettered", "message_id", m.MessageID, "reason", reason)
	e.ack(m)
}

// heartbeat extends the message's visibility while its handlers run: every
// half visibility timeout it resets the timeout, until MaxExtension.
func (e *Engine) heartbeat(m Message) (stop func()) {
	vt := e.src.VisibilityTimeout()
	if vt < 2*time.Second {
		return func() {}
	}
	start := time.Now()
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // the callback reads t: let it wait until t is set
	defer mu.Unlock()
	t = time.AfterFunc(vt/2, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if time.Since(start)+vt > e.opt.MaxExtension {
			e.log.Warn("handler exceeded the maximum visibility extension; the message may be redelivered",
				"message_id", m.MessageID, "max_extension", e.opt.MaxExtension.String())
			return
		}
		e.m.Extended.Inc()
		e.vis.add(VisibilityChange{Receipt: m.Receipt, Timeout: vt})
		t.Reset(vt / 2)
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
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
