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

	// Flushers wait for the next batch rather than exit, as the engine's
	// message workers do: a goroutine per flush regrew its stack through
	// the SDK's call path on every delete. They exit once close returns.
	work chan []T
	quit chan struct{}
	once sync.Once
}

func newBatcher[T any](interval time.Duration, flush func(ctx context.Context, batch []T)) *batcher[T] {
	return &batcher[T]{interval: interval, flush: flush, work: make(chan []T), quit: make(chan struct{})}
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
	select {
	case b.work <- batch: // an idle flusher took it
	default:
		go b.flusher(batch)
	}
}

func (b *batcher[T]) flusher(batch []T) {
	for {
		b.flush(context.Background(), batch)
		b.wg.Done()
		select {
		case batch = <-b.work:
		case <-b.quit:
			return
		}
	}
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
	b.once.Do(func() { close(b.quit) })
}
