package engine

import (
	"context"
	"errors"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/sony/gobreaker/v2"
)

// Handle implements Handler: the route's handler chain inside its circuit
// breaker. A message whose handler failed while the breaker opened, or that
// the open breaker rejected, is held rather than handed back: the consumer
// keeps it (its visibility heartbeat runs on), waits for the breaker to let
// a call through, and tries again — the held messages are the breaker's
// probes, so an outage spends no receive counts beyond the first attempt,
// and work resumes within a probe interval of the sink's return. The hold
// ends with the handler's timeout or at shutdown; the message is then
// released (Unavailable).
func (b *bound) Handle(ctx context.Context, ev *ce.Event) error {
	if b.breaker == nil {
		return b.handler.Handle(ctx, ev)
	}
	probing := false
	for {
		_, err := b.breaker.Execute(func() (struct{}, error) { return struct{}{}, b.handler.Handle(ctx, ev) })
		if probing {
			b.probe.Store(false)
		}
		if err == nil || delivery.IsPermanent(err) || errors.Is(err, delivery.ErrSkip) || ctx.Err() != nil {
			return err
		}
		if _, later := delivery.RetryDelay(err); later {
			return err
		}
		rejected := errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
		if !rejected && b.breaker.State() == gobreaker.StateClosed {
			return err // an ordinary failure: retried with backoff
		}
		ok := false
		if ok, probing = b.wait(ctx); !ok {
			if rejected {
				return delivery.Unavailable(err)
			}
			return err
		}
	}
}

// wait holds the caller until the breaker is closed, or half-open with no
// other held message probing it (then the caller is the probe). It returns
// false at shutdown or when ctx ends; probe says the caller must clear
// b.probe after its call.
func (b *bound) wait(ctx context.Context) (ok, probe bool) {
	e := b.eng
	e.held.Add(1)
	defer e.held.Add(-1)
	for {
		switch b.breaker.State() { // State moves an open breaker to half-open once OpenFor has passed
		case gobreaker.StateClosed:
			return true, false
		case gobreaker.StateHalfOpen:
			if b.probe.CompareAndSwap(false, true) {
				return true, true
			}
		}
		if e.stopping.Load() {
			return false, false
		}
		select {
		case <-ctx.Done():
			return false, false
		case <-time.After(100 * time.Millisecond):
		}
	}
}
