package tracing

import (
	"context"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// gated is a batch processor whose OnEnd waits for the test, so that a span
// can be caught on its way from the hand-off to it.
type gated struct {
	entered, release chan struct{}
	mu               sync.Mutex
	ended            int
	endedAtFlush     []int
}

func (g *gated) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (g *gated) OnEnd(sdktrace.ReadOnlySpan) {
	g.entered <- struct{}{}
	<-g.release
	g.mu.Lock()
	g.ended++
	g.mu.Unlock()
}
func (g *gated) flushed() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.endedAtFlush = append(g.endedAtFlush, g.ended)
	return nil
}
func (g *gated) ForceFlush(context.Context) error { return g.flushed() }
func (g *gated) Shutdown(context.Context) error   { return g.flushed() }

// ForceFlush (a Lambda's, before its invocation returns) and Shutdown hand
// the batch processor every span ended before them, also one the hand-off's
// timer is passing on at that moment: before, ForceFlush found nothing left
// to take and flushed the processor without it.
func TestFlushWaitsForASpanOnItsWay(t *testing.T) {
	for _, name := range []string{"ForceFlush", "Shutdown"} {
		t.Run(name, func(t *testing.T) {
			g := &gated{entered: make(chan struct{}), release: make(chan struct{})}
			h := newHandoff(g, func(k string) string {
				if k == "OTEL_BSP_SCHEDULE_DELAY" {
					return "1" // the timer hands the span off after 1 ms
				}
				return ""
			})
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h))
			_, s := tp.Tracer("t").Start(context.Background(), "work")
			s.End()
			<-g.entered // the timer's flush is passing the span on
			done := make(chan struct{})
			go func() {
				defer close(done)
				if name == "ForceFlush" {
					_ = h.ForceFlush(context.Background())
				} else {
					_ = h.Shutdown(context.Background())
				}
			}()
			time.Sleep(50 * time.Millisecond)
			close(g.release)
			<-done
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.endedAtFlush) != 1 || g.endedAtFlush[0] != 1 {
				t.Errorf("the batch processor was flushed having received %v of 1 ended span", g.endedAtFlush)
			}
		})
	}
}
