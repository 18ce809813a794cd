package engine

import (
	"context"
	"github.com/eventplane/eventplane/consumers/delivery"
	"sync"
	"time"
)

// batcher collects entries and flushes them in batches of MaxBatch, or when
// the oldest entry has waited for the flush interval, whichever comes first.
// It is how a steady load costs one delete call per ten messages.
type batcher[T any] struct {
	interval time.Duration
	flush    func(ctx context.Context, batch []T)

	mu      sync.Mutex
	pending []T
	timer   *time.Timer
	wg      sync.WaitGroup // flushes in progress
}

func newBatcher[T any](interval time.Duration, flush func(ctx context.Context, batch []T)) *batcher[T] {
	return &batcher[T]{interval: interval, flush: flush}
}

// add queues one entry. Full batches are flushed at once in the background.
func (b *batcher[T]) add(v T) {
	b.mu.Lock()
	b.pending = append(b.pending, v)
	if len(b.pending) >= delivery.MaxBatch {
		batch := b.take()
		b.mu.Unlock()
		b.run(batch)
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.interval, b.tick)
	}
	b.mu.Unlock()
}

func (b *batcher[T]) tick() {
	b.mu.Lock()
	b.timer = nil
	batch := b.take()
	b.mu.Unlock()
	if len(batch) > 0 {
		b.run(batch)
	}
}

// take removes up to MaxBatch pending entries; b.mu must be held.
func (b *batcher[T]) take() []T {
	n := min(len(b.pending), delivery.MaxBatch)
	batch := append([]T(nil), b.pending[:n]...)
	b.pending = append(b.pending[:0], b.pending[n:]...)
	if len(b.pending) == 0 && b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return batch
}

func (b *batcher[T]) run(batch []T) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.flush(context.Background(), batch)
	}()
}

// close flushes everything pending and waits for flushes in progress.
func (b *batcher[T]) close() {
	for {
		b.mu.Lock()
		batch := b.take()
		b.mu.Unlock()
		if len(batch) == 0 {
			break
		}
		b.run(batch)
	}
	b.wg.Wait()
}
