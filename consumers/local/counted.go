package local

import (
	"context"
	"sync/atomic"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// countedSource counts a consumer's messages as the engine settles them:
// acknowledged (handled, or sent to the DLQ and then acknowledged) and
// dead-lettered. The dashboard shows events handled from it, and route
// runs (one per route an event matched) from the handler middleware.
type countedSource struct {
	delivery.
		Source
	acked, deadLettered atomic.Int64
}

func (s *countedSource) Delete(ctx context.Context, receipts []string) error {
	err := s.Source.Delete(ctx, receipts)
	if err == nil {
		s.acked.Add(int64(len(receipts)))
	}
	return err
}

func (s *countedSource) DeadLetter(ctx context.Context, m delivery.Message, reason string) error {
	err := s.Source.DeadLetter(ctx, m, reason)
	if err == nil {
		s.deadLettered.Add(1)
	}
	return err
}

// handled is how many messages were processed and acknowledged, not
// counting those acknowledged after going to the DLQ.
func (s *countedSource) handled() int64 { return s.acked.Load() - s.deadLettered.Load() }
