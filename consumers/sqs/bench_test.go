package sqs_test

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/engine"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConsumerAgainstMoto consumes 500 messages per iteration from a moto
// queue and reports SQS receive+delete requests per event and the consumer's
// CPU-seconds per 1,000 events (moto runs in its own process).
func BenchmarkConsumerAgainstMoto(b *testing.B) {
	const n = 500
	var requests, events int
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newQueue(b, false, 30, 5)
		e.send(n, nil)
		before := e.requests.get("ReceiveMessage") + e.requests.get("DeleteMessageBatch")
		var done atomic.Int32
		finished := make(chan struct{})
		cpu0 := cpuTime()
		b.StartTimer()
		stop := e.run(engine.Options{MaxInFlight: 40, FlushInterval: 50 * time.Millisecond,
			Routes: all(func(context.Context, *ce.Event) error {
				if done.Add(1) == n {
					close(finished)
				}
				return nil
			})})
		<-finished
		stop()
		b.StopTimer()
		cpu += cpuTime() - cpu0
		requests += e.requests.get("ReceiveMessage") + e.requests.get("DeleteMessageBatch") - before
		events += n
		b.StartTimer()
	}
	b.ReportMetric(float64(requests)/float64(events), "sqs-requests/event")
	b.ReportMetric(cpu.Seconds()*1000/float64(events), "cpu-s/1000-events")
}
