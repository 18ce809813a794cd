package engine

import (
	"context"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/metrics"
)

// handle processes one message with the processor and carries out its
// settlement. It reports whether the message was acknowledged (processed,
// skipped or a control message).
func (e *Engine) handle(m delivery.Message) bool {
	e.m.InFlight.Inc()
	defer e.m.InFlight.Dec()
	start := time.Now()
	e.debug.begin(m, start)
	defer e.debug.end(m.Receipt)
	stop := e.heartbeat(m)
	defer stop()

	s := e.proc.One(e.hctx, m)
	e.settle(m, s)
	e.debug.record(m, s, start)
	return s.Outcome == delivery.

		// settle carries out a settlement: metrics, logs and the queue calls.
		Ack
}

func (e *Engine) settle(m delivery.Message, s delivery.Settlement) {
	if s.Duplicates > 0 {
		e.m.Duplicates.Add(float64(s.Duplicates))
	}
	if s.Unrouted > 0 {
		e.m.Unrouted.Add(float64(s.Unrouted))
	}
	if s.Control != nil {
		e.m.Control.WithLabelValues(string(s.Control.Kind)).Inc()
		e.log.Info("control message acknowledged", "kind", s.Control.Kind, "source", s.Control.Source, "message_id", m.MessageID)
	}
	if s.Outcome == delivery.Ack {
		e.ack(m)
		return
	}
	log := e.log.With("message_id", m.MessageID, "receive_count", m.ReceiveCount, "error", s.Err.Error())
	if s.Route != "" {
		log = log.With("route", s.Route)
	}
	if s.Event != nil {
		log = log.With("event_id", s.Event.ID(), "event_type", s.Event.Type())
	}
	if s.TraceID.IsValid() {
		log = log.With("trace_id", s.TraceID.String())
	}
	switch s.Outcome {
	case delivery.Release:
		if s.Kind == delivery.KindUnavailable {
			e.m.Failed.WithLabelValues(metrics.ReasonBreakerOpen).Inc()
		}
		e.release(m)
		log.Warn("message released", "why", s.Kind)
	case delivery.DeadLetter:
		e.m.Failed.WithLabelValues(s.Kind).Inc()
		e.deadLetter(m, s.Kind, s.Reason)
	case delivery.Retry:
		e.m.Failed.WithLabelValues(s.Kind).Inc()
		e.m.Retried.Inc()
		e.vis.add(delivery.VisibilityChange{Receipt: m.Receipt, Timeout: s.Delay})
		log.Warn("handler failed: message will be retried", "delay", s.Delay.String())
	}
}

// retry hands the message back to the queue after a backoff delay; the
// queue's redrive policy moves it to the DLQ after maxReceiveCount receives.
func (e *Engine) retry(m delivery.Message) {
	e.m.Retried.Inc()
	e.vis.add(delivery.VisibilityChange{Receipt: m.Receipt, Timeout: e.opt.Backoff.Delay(m.ReceiveCount)})
}

// deadLetter sends m to the DLQ with its reason and acknowledges it. If the
// DLQ cannot be reached the message is retried instead, so nothing is lost.
func (e *Engine) deadLetter(m delivery.Message, kind, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
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
func (e *Engine) heartbeat(m delivery.Message) (stop func()) {
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
		e.vis.add(delivery.VisibilityChange{Receipt: m.Receipt, Timeout: vt})
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
