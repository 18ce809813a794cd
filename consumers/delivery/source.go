// Package delivery is the contract between queues, handlers and the
// runtimes that run them: a received Message and the Source it comes from
// (SQS semantics), the Handler of one CloudEvent and its Middleware, the
// error marks that classify a failure (Permanent, RetryAfter, Unavailable,
// ErrSkip), and the one settlement function, Processor, that decides for
// each message whether it is acknowledged, retried with backoff, released
// or dead-lettered with its reason.
//
// It depends on the event model, the router and the OpenTelemetry API only,
// so a Lambda function links it without the long-running consumer runtime
// (package engine: receiving, circuit breakers, Prometheus metrics).
package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eventplane/eventplane/consumers/event"
)

// Message is one message received from a Source.
type Message struct {
	event.Message
	// Receipt identifies this receipt of the message (SQS ReceiptHandle).
	Receipt string
	// ReceiveCount is how many times the message has been received,
	// including this time (SQS ApproximateReceiveCount).
	ReceiveCount int
	// GroupID is the FIFO message group ("" on standard queues).
	GroupID string
}

// VisibilityChange sets a message's visibility timeout, counted from now.
type VisibilityChange struct {
	Receipt string
	Timeout time.Duration
}

// Source is a queue with SQS semantics. Batch methods take at most
// MaxBatch entries.
type Source interface {
	// Receive waits (long polling) for up to max messages; it returns an
	// empty slice when none arrived within the source's wait time.
	Receive(ctx context.Context, max int) ([]Message, error)
	// Delete acknowledges messages.
	Delete(ctx context.Context, receipts []string) error
	// ChangeVisibility changes the visibility timeout of received messages.
	ChangeVisibility(ctx context.Context, changes []VisibilityChange) error
	// DeadLetter sends a copy of m, with reason as a message attribute, to
	// the dead-letter queue. The caller deletes m afterwards.
	DeadLetter(ctx context.Context, m Message, reason string) error
	// VisibilityTimeout is the queue's default visibility timeout.
	VisibilityTimeout() time.Duration
}

// MaxBatch is the largest batch SQS accepts for receive, delete and
// visibility changes.
const MaxBatch = 10

// BatchError reports the entries of a batch call that failed.
type BatchError struct {
	// Failed maps a receipt to the reason its entry failed.
	Failed map[string]string
}

func (e *BatchError) Error() string {
	parts := make([]string, 0, len(e.Failed))
	for r, why := range e.Failed {
		if len(r) > 12 {
			r = r[:12] + "…"
		}
		parts = append(parts, r+": "+why)
	}
	return fmt.Sprintf("%d batch entries failed: %s", len(e.Failed), strings.Join(parts, "; "))
}

// Dead-letter message attributes set by the engine.
const (
	AttrFailureReason = "eventplane-failure-reason"
	AttrFailureKind   = "eventplane-failure-kind"
	AttrSourceQueue   = "eventplane-source-queue"
	AttrReceiveCount  = "eventplane-receive-count"
)
