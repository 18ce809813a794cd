package tracing

import (
	"context"
	"strconv"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The SDK's batch span processor takes each ended span through a channel
// to its own goroutine, which parks again as soon as it has appended it: in
// a consumer, whose spans end in bursts of a receive's batch, nearly every
// span wakes that goroutine (and the scheduler that runs it). Measured with
// BenchmarkOneTraced in package delivery, a pause after every 10 messages
// put ~5 CPU-µs per span on the batching alone. handoff sits in front of
// it: ended spans gather in a slice under a mutex and go to the batch
// processor together — when handoffBatch have gathered, after a short delay
// for the rest, and on ForceFlush and Shutdown — so its goroutine wakes once
// per burst. What the batch processor does is unchanged: the OTEL_BSP_*
// variables (queue size, export batch size, schedule delay, export timeout)
// still configure it, and a full queue still drops spans and counts them.

// handoffBatch is how many ended spans go to the batch processor at once.
const handoffBatch = 64

// maxHandoffDelay bounds how long an ended span waits before it goes on to
// the batch processor (which waits OTEL_BSP_SCHEDULE_DELAY, 5 s by
// default, before it exports what it holds).
const maxHandoffDelay = 100 * time.Millisecond

type handoff struct {
	next  sdktrace.SpanProcessor
	delay time.Duration

	mu      sync.Mutex
	spans   []sdktrace.ReadOnlySpan
	timer   *time.Timer // armed while spans wait
	armed   bool
	passing int        // hand-offs taken and not yet done (h.mu)
	passed  *sync.Cond // on h.mu: broadcast when passing drops to 0
}

// newHandoff returns next behind a hand-off that waits at most the
// schedule delay OTEL_BSP_SCHEDULE_DELAY gives (milliseconds), and
// maxHandoffDelay.
func newHandoff(next sdktrace.SpanProcessor, getenv func(string) string) *handoff {
	h := &handoff{next: next, delay: maxHandoffDelay, spans: make([]sdktrace.ReadOnlySpan, 0, handoffBatch)}
	if ms, err := strconv.Atoi(getenv("OTEL_BSP_SCHEDULE_DELAY")); err == nil && ms >= 0 {
		h.delay = min(h.delay, time.Duration(ms)*time.Millisecond)
	}
	h.passed = sync.NewCond(&h.mu)
	h.timer = time.AfterFunc(time.Hour, h.flush)
	h.timer.Stop()
	return h
}

func (h *handoff) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { h.next.OnStart(ctx, s) }

// OnEnd keeps s for the next hand-off; the span that fills the batch hands
// it off on its goroutine.
func (h *handoff) OnEnd(s sdktrace.ReadOnlySpan) {
	h.mu.Lock()
	h.spans = append(h.spans, s)
	if len(h.spans) < handoffBatch {
		if !h.armed {
			h.armed = true
			h.timer.Reset(h.delay)
		}
		h.mu.Unlock()
		return
	}
	spans := h.take()
	h.mu.Unlock()
	h.pass(spans)
}

// take empties the gathered spans and disarms the timer; h.mu is held.
// The caller passes what it took on (pass), which ForceFlush and Shutdown
// wait for.
func (h *handoff) take() []sdktrace.ReadOnlySpan {
	spans := h.spans
	h.passing++
	h.spans = make([]sdktrace.ReadOnlySpan, 0, handoffBatch)
	if h.armed {
		h.armed = false
		h.timer.Stop()
	}
	return spans
}

func (h *handoff) pass(spans []sdktrace.ReadOnlySpan) {
	for _, s := range spans {
		h.next.OnEnd(s)
	}
	h.mu.Lock()
	if h.passing--; h.passing == 0 {
		h.passed.Broadcast()
	}
	h.mu.Unlock()
}

// waitPassed returns once no hand-off is under way.
func (h *handoff) waitPassed() {
	h.mu.Lock()
	for h.passing > 0 {
		h.passed.Wait()
	}
	h.mu.Unlock()
}

// flush hands off what has gathered.
func (h *handoff) flush() {
	h.mu.Lock()
	spans := h.take()
	h.mu.Unlock()
	h.pass(spans)
}

// ForceFlush and Shutdown hand off what has gathered and wait for every
// hand-off under way (the timer's, or a full batch's on another goroutine)
// before they flush the batch processor.
func (h *handoff) ForceFlush(ctx context.Context) error {
	h.flush()
	h.waitPassed()
	return h.next.ForceFlush(ctx)
}

func (h *handoff) Shutdown(ctx context.Context) error {
	h.flush()
	h.waitPassed()
	return h.next.Shutdown(ctx)
}
