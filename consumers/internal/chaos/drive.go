package main

import (
	"context"
	"fmt"
	"time"
)

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Crash interrupts the consumer at 10%, 20%, … 80% of the drain: kill -9 six
// times and SIGTERM twice, restarting it each time.
func Crash(ctx context.Context, r *Run) error {
	plan := "kktkktkk"
	var worst time.Duration
	for i, k := range plan {
		if err := r.waitProgress(ctx, float64(i+1)/10); err != nil {
			return err
		}
		if k == 'k' {
			r.consumer.kill()
		} else {
			took, err := r.consumer.term(90 * time.Second)
			if err != nil {
				r.note("SIGTERM %d: %v", i, err)
			}
			worst = max(worst, took)
		}
		if err := r.restart(); err != nil {
			return err
		}
	}
	r.note("slowest SIGTERM exit %.1f s", worst.Seconds())
	return nil
}

// Outage makes the sink (SNS, and DynamoDB when idempotency is on) fail in
// mode ("reset" or "blackhole") for d once the drain is under way, then
// measures the consumer's request rate during the outage and the time from
// the sink's return to the first effect written.
func Outage(mode string, d time.Duration) func(ctx context.Context, r *Run) error {
	return func(ctx context.Context, r *Run) error {
		if err := r.waitProgress(ctx, 0.05); err != nil {
			return err
		}
		services := []string{"sns"}
		if r.sc.Idempotency {
			services = append(services, "dynamodb")
		}
		before := total(r.env.Proxy.Requests())
		for _, s := range services {
			r.env.Proxy.SetFault(s, Fault{Mode: mode})
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		after := total(r.env.Proxy.Requests())
		lifted := time.Now()
		for _, s := range services {
			r.env.Proxy.SetFault(s, Fault{})
		}
		r.outageSet, r.outageRPS = true, float64(after-before)/d.Seconds()
		for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); {
			if at := r.env.Proxy.FirstPublishAfter(lifted); !at.IsZero() {
				r.recovered, r.recovery = true, at.Sub(lifted)
				return nil
			}
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	}
}

// SQSFaults adds latency to every SQS call and resets some before and some
// after moto applied them, until the drain is nearly over.
func SQSFaults(latency time.Duration, before, after float64) func(ctx context.Context, r *Run) error {
	return func(ctx context.Context, r *Run) error {
		start := time.Now()
		r.env.Proxy.SetFault("sqs", Fault{Latency: latency, ResetBefore: before, ResetAfter: after})
		defer r.env.Proxy.SetFault("sqs", Fault{})
		for r.progress() < 0.99 && time.Since(start) < 5*time.Minute {
			if err := sleep(ctx, 200*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	}
}

// SlowShutdown delays the sink by latency so that every handler is in
// flight, sends SIGTERM while the consumer's other receivers long-poll, and
// measures the exit; the consumer is then restarted without the delay.
func SlowShutdown(latency time.Duration) func(ctx context.Context, r *Run) error {
	return func(ctx context.Context, r *Run) error {
		r.env.Proxy.SetFault("sns", Fault{Latency: latency})
		for r.env.Proxy.Requests()["sns"] < int64(r.sc.Events) {
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
		took, err := r.consumer.term(120 * time.Second)
		if err != nil {
			r.note("SIGTERM: %v", err)
		}
		r.note("exit %.1f s after SIGTERM with %v handlers in flight", took.Seconds(), latency)
		r.env.Proxy.SetFault("sns", Fault{})
		fx, _ := r.tally.progress()
		r.note("%d effects before restart", fx)
		return r.restart()
	}
}

// Scenarios is the suite; scale multiplies the event counts.
func Scenarios(scale float64) []Scenario {
	n := func(v int) int { return max(1, int(float64(v)*scale)) }
	out := []Scenario{
		{Name: "crash", Promise: "kill -9 ×6 and SIGTERM ×2 lose nothing (duplicates allowed without idempotency)",
			Events: n(2000), Drive: Crash, Deadline: 15 * time.Minute},
		{Name: "crash+idempotency", Promise: "a crash never dead-letters a good message nor loses an effect; an effect in flight at a kill -9 repeats on a sink that cannot deduplicate (SNS standard): counted, attributed",
			Events: n(2000), Idempotency: true, Drive: Crash, Deadline: 15 * time.Minute},
		{Name: "crash+idempotency+store", Promise: "where the effect lands in an idempotent sink (the store handler, keyed by event id): one item per event, no overwrite",
			Events: n(2000), Idempotency: true, Sink: SinkStore, Drive: Crash, Deadline: 15 * time.Minute},
		{Name: "crash+idempotency+downstream", Promise: "SNS standard repeats reach the topic; a downstream consumer with idempotency drops them by CloudEvent id: no repeat after it",
			Events: n(2000), Idempotency: true, Sink: SinkDownstream, Drive: Crash, Deadline: 15 * time.Minute},
		{Name: "crash+idempotency+fifo", Promise: "… and repeats nothing where the destination deduplicates (SNS FIFO, id from the event)",
			Events: n(2000), Idempotency: true, FIFOTopic: true, Drive: Crash, Deadline: 15 * time.Minute},
	}
	for _, d := range []time.Duration{time.Minute, 5 * time.Minute} {
		for _, mode := range []string{"reset", "blackhole"} {
			out = append(out, Scenario{Name: fmt.Sprintf("sink %s %v", mode, d),
				Promise: "a sink outage dead-letters nothing, receives slowly, and recovers within seconds",
				Events:  n(600), Drive: Outage(mode, d), Deadline: d + 10*time.Minute})
		}
	}
	out = append(out,
		Scenario{Name: "sqs latency+resets", Promise: "SQS latency and lost responses lose nothing",
			Events: n(1000), Drive: SQSFaults(100*time.Millisecond, 0.05, 0.05)},
		Scenario{Name: "poison", Promise: "every malformed message ends in the DLQ with a reason naming its defect",
			Events: n(1000), Poison: max(5, n(100))},
		Scenario{Name: "slow-sink shutdown", Promise: "SIGTERM exits within max(wait-time, grace) + a few s; nothing lost or repeated",
			Events: 10, Drive: SlowShutdown(30 * time.Second)},
	)
	return out
}
