package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/metrics"
)

// BenchmarkEngineMemory pushes 10,000 events per iteration through the
// in-memory source with a no-op handler and reports events/s and
// allocations per event for the whole runtime (receive, normalize, route,
// handle, batched delete).
func BenchmarkEngineMemory(b *testing.B) {
	const events = 10000
	body := `{"specversion":"1.0","id":"%d","source":"bench","type":"io.eventplane.demo.order.placed.v1","data":{"orderId":"%d","total":12.5}}`
	var total time.Duration
	var allocs uint64
	for b.Loop() {
		b.StopTimer()
		q := memqueue.New(memqueue.Config{Name: "bench", WaitTime: 10 * time.Millisecond})
		for i := range events {
			_, _ = q.Send(fmt.Sprintf(body, i, i), nil, "")
		}
		var done atomic.Int32
		finished := make(chan struct{})
		eng, err := engine.New(engine.Options{Source: q, MaxInFlight: 100, Metrics: metrics.New(), Logger: quiet(),
			Routes: routes(delivery.HandlerFunc(func(context.Context, *ce.Event) error {
				if done.Add(1) == events {
					close(finished)
				}
				return nil
			}))})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		began := time.Now()
		go func() { _ = eng.Run(ctx) }()
		<-finished
		total += time.Since(began)
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		allocs += ms1.Mallocs - ms0.Mallocs
		cancel()
		b.StartTimer()
	}
	n := float64(b.N) * events
	b.ReportMetric(n/total.Seconds(), "events/s")
	b.ReportMetric(float64(allocs)/n, "allocs/event")
}
