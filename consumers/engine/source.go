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
// The engine depends only on the small interfaces in this file and on the
// event model; concrete sources (SQS, in-memory) are wired in by main packages.
package engine

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
