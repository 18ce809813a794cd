package tracing_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/eventplane/eventplane/consumers/tracing"
)

// batches records what each export carried.
type batches struct {
	mu    sync.Mutex
	sizes []int
	spans int
}

func (b *batches) ExportSpans(_ context.Context, ss []sdktrace.ReadOnlySpan) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes = append(b.sizes, len(ss))
	b.spans += len(ss)
	return nil
}
func (b *batches) Shutdown(context.Context) error { return nil }
func (b *batches) got() (int, []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spans, append([]int(nil), b.sizes...)
}

func start(t *testing.T) (tracing.Provider, func(context.Context) error, *batches) {
	t.Helper()
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	exp := &batches{}
	tp, stop, err := tracing.Start(context.Background(), os.Getenv, func(context.Context) (sdktrace.SpanExporter, error) { return exp, nil })
	if err != nil {
		t.Fatal(err)
	}
	return tp, stop, exp
}

func endSpans(tp tracing.Provider, n int) {
	for range n {
		_, s := tp.Tracer("test").Start(context.Background(), "work")
		s.End()
	}
}

// A few spans and then nothing more are still exported on their own, after
// about the batch processor's schedule delay (OTEL_BSP_SCHEDULE_DELAY):
// nothing waits for more spans or for a flush.
func TestSpansAreExportedWithoutAFlushAfterTheScheduleDelay(t *testing.T) {
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	tp, stop, exp := start(t)
	defer func() { _ = stop(context.Background()) }()
	endSpans(tp, 3)
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := exp.got(); n < 3; n, _ = exp.got() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 3 spans exported 5 s after they ended with a 50 ms schedule delay", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ForceFlush (what the Lambda mains call before an invocation returns) and
// Shutdown export every span that ended, in batches of at most
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE.
func TestFlushAndShutdownExportEverySpanInBatchesOfTheConfiguredSize(t *testing.T) {
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "60000") // only a full batch or a flush exports
	t.Setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "50")
	tp, stop, exp := start(t)
	endSpans(tp, 130)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, sizes := exp.got()
	if n != 130 {
		t.Fatalf("ForceFlush exported %d of 130 spans (batches %v)", n, sizes)
	}
	for _, s := range sizes {
		if s > 50 {
			t.Errorf("an export of %d spans: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=50 not honoured (batches %v)", s, sizes)
		}
	}
	endSpans(tp, 7)
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, sizes := exp.got(); n != 137 {
		t.Errorf("after Shutdown %d of 137 spans exported (batches %v)", n, sizes)
	}
}

// Spans ended on many goroutines at once (the consumer's workers) are all
// exported.
func TestSpansEndedConcurrentlyAreAllExported(t *testing.T) {
	tp, stop, exp := start(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { endSpans(tp, 250) })
	}
	wg.Wait()
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := exp.got(); n != 2000 {
		t.Errorf("%d of 2000 spans exported", n)
	}
}
