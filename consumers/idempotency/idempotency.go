// Package idempotency makes handlers effectively-once on top of at-least-once
// delivery. A Store records, per key — the route and the CloudEvent's source
// and id — that an event is being processed (a lease that expires, so a
// crashed worker never blocks a key forever) or was processed (a completed
// marker that expires after a TTL). The Middleware wraps a route's handler:
// a completed duplicate is skipped and acknowledged, a concurrent duplicate is
// retried later, never processed twice.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// State is the outcome of Begin.
type State int

// Begin outcomes.
const (
	// Claimed: the caller holds the lease and must Complete or Release.
	Claimed State = iota
	// Done: the event was processed already.
	Done
	// Busy: another worker holds a live lease.
	Busy
)

func (s State) String() string {
	return [...]string{"claimed", "done", "busy"}[s]
}

// Store keeps idempotency records.
type Store interface {
	// Begin claims key for lease; token identifies this claim. When the key
	// is Busy, until is when the other worker's lease ends.
	Begin(ctx context.Context, key, token string, lease time.Duration) (state State, until time.Time, err error)
	// Extend renews this claim's lease to lease from now (ErrLeaseLost if
	// the claim is no longer this token's).
	Extend(ctx context.Context, key, token string, lease time.Duration) error
	// Complete marks key processed until ttl has passed.
	Complete(ctx context.Context, key, token string, ttl time.Duration) error
	// Release drops this claim so that a retry can claim the key at once.
	Release(ctx context.Context, key, token string) error
}

// Key derives a record key from a route and an event: sha256 of route,
// source and id (fixed length, whatever the ids look like).
func Key(routeName string, e *ce.Event) string {
	h := sha256.New()
	for _, s := range []string{routeName, e.Source(), e.ID()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ErrLeaseLost is returned by Complete when the claim expired and another
// worker took the event over.
var ErrLeaseLost = errors.New("idempotency: the lease expired and another worker claimed the event")

// ErrInProgress is returned when another worker holds the event, wrapped
// with delivery.RetryAfter: the message is retried when that worker's lease
// ends and the breaker does not count it.
var ErrInProgress = errors.New("idempotency: the event is being processed by another worker")

// Options configure the middleware.
type Options struct {
	// Lease bounds how long a claim blocks other workers once its worker
	// stops renewing it (a crash): the middleware renews it every third of
	// its length while the handler runs, so it may be far shorter than the
	// handler timeout. Keep it short against the queue's visibility timeout
	// times maxReceiveCount, so a crashed worker's events are retried, not
	// dead-lettered (default 1m).
	Lease time.Duration
	// TTL is how long a completed event is remembered (default 7 days;
	// longer than the queue's retention plus any replay window).
	TTL time.Duration
	// NewToken returns a unique claim token (default: random).
	NewToken func() string
	// Logger reports completed markers that could not be written
	// (default slog.Default()).
	Logger *slog.Logger
}

// ManagesDuplicates is implemented by handlers that deal with duplicates
// themselves — the store handler's conditional write detects them, the
// archive handler's lake is at-least-once by design — so the middleware
// leaves them alone and an event costs no extra writes.
type ManagesDuplicates interface {
	ManagesDuplicates()
}

// Middleware returns an engine middleware that consults store around a
// route's handler.
func Middleware(store Store, opt Options) delivery.Middleware {
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	if opt.TTL <= 0 {
		opt.TTL = 7 * 24 * time.Hour
	}
	if opt.NewToken == nil {
		opt.NewToken = randomToken
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return func(next delivery.Handler) delivery.Handler {
		if _, ok := next.(ManagesDuplicates); ok {
			return next
		}
		return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			key := Key(delivery.RouteName(ctx), e)
			token := opt.NewToken()
			state, until, err := store.Begin(ctx, key, token, opt.Lease)
			if err != nil {
				return fmt.Errorf("idempotency: begin: %w", err)
			}
			switch state {
			case Done:
				return delivery.ErrSkip
			case Busy:
				// Retry when the holder's lease ends (+1s: records keep whole
				// seconds), not on the backoff schedule.
				wait := opt.Lease
				if !until.IsZero() {
					wait = time.Until(until) + time.Second
				}
				return delivery.RetryAfter(ErrInProgress, wait)
			}
			stop := renew(ctx, store, key, token, opt.Lease)
			err = next.Handle(ctx, e)
			stop()
			if err != nil {
				// Let a retry claim the event at once. A failed release only
				// delays the retry until the lease expires.
				_ = store.Release(context.WithoutCancel(ctx), key, token)
				return err
			}
			if err := store.Complete(context.WithoutCancel(ctx), key, token, opt.TTL); err != nil {
				// The effect happened: the message is acknowledged all the
				// same, since a retry would run the effect again as soon as
				// the claim expired. Only another copy of the event arriving
				// later (a publisher's repeat) finds no marker and runs again.
				opt.Logger.Warn("idempotency: effect done but its completed marker was not written; a later copy of the event would run again",
					"event_id", e.ID(), "event_source", e.Source(), "error", err)
			}
			return nil
		})
	}
}

// renew extends the claim every third of the lease until stop is called.
// A failed renewal is retried at the next tick; if the lease is lost,
// Complete reports it.
func renew(ctx context.Context, store Store, key, token string, lease time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if errors.Is(store.Extend(ctx, key, token, lease), ErrLeaseLost) {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
