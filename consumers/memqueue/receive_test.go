package memqueue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/memqueue"
)

func send(t testing.TB, q *memqueue.Queue, n int) {
	t.Helper()
	for i := range n {
		if _, err := q.Send(fmt.Sprintf("m%d", i), nil, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func receive(t testing.TB, q *memqueue.Queue, limit int, visibility time.Duration) []delivery.Message {
	t.Helper()
	got, err := q.ReceiveWith(context.Background(), limit, 0, visibility)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func bodies(ms []delivery.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Body
	}
	return out
}

// A receive skips the messages in flight; those come back (in send order,
// ahead of later messages) once their visibility timeout passes, as SQS
// redelivers an unacknowledged message.
func TestInFlightMessagesComeBackWhenTheirVisibilityEnds(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "q"})
	send(t, q, 5)
	if got := bodies(receive(t, q, 2, 50*time.Millisecond)); fmt.Sprint(got) != "[m0 m1]" {
		t.Fatalf("first receive = %v", got)
	}
	if got := bodies(receive(t, q, 2, time.Hour)); fmt.Sprint(got) != "[m2 m3]" {
		t.Fatalf("second receive = %v, want the next visible ones", got)
	}
	time.Sleep(60 * time.Millisecond)
	got := receive(t, q, 10, time.Hour)
	if fmt.Sprint(bodies(got)) != "[m0 m1 m4]" {
		t.Fatalf("after the visibility timeout = %v, want m0 m1 again then m4", bodies(got))
	}
	if got[0].ReceiveCount != 2 {
		t.Errorf("m0's receive count = %d, want 2", got[0].ReceiveCount)
	}
	if got := receive(t, q, 10, time.Hour); len(got) != 0 {
		t.Errorf("everything is in flight, got %v", bodies(got))
	}
}

// ChangeMessageVisibility to 0 makes an in-flight message visible at once
// (the engine's retry with no backoff, a released message at shutdown).
func TestChangeVisibilityToZeroMakesAMessageReceivable(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "q"})
	send(t, q, 3)
	first := receive(t, q, 3, time.Hour)
	if len(first) != 3 {
		t.Fatalf("received %d", len(first))
	}
	if got := receive(t, q, 10, time.Hour); len(got) != 0 {
		t.Fatalf("all in flight, got %v", bodies(got))
	}
	if err := q.ChangeVisibility(context.Background(), []delivery.VisibilityChange{{Receipt: first[1].Receipt, Timeout: 0}}); err != nil {
		t.Fatal(err)
	}
	if got := bodies(receive(t, q, 10, time.Hour)); fmt.Sprint(got) != "[m1]" {
		t.Fatalf("after ChangeVisibility(0) = %v, want m1", got)
	}
}

// Deleting and compacting while messages are in flight keeps every message
// received exactly once per visibility period, in order, with none lost.
func TestManyInFlightWithDeletesAndCompaction(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "q"})
	const n = 1000
	send(t, q, n)
	var inFlight []delivery.Message
	seen := map[string]bool{}
	for len(seen) < n {
		got := receive(t, q, 3, time.Hour)
		if len(got) == 0 {
			t.Fatalf("no message although %d were never received", n-len(seen))
		}
		for _, m := range got {
			if seen[m.Body] {
				t.Fatalf("%s received twice while in flight", m.Body)
			}
			seen[m.Body] = true
		}
		inFlight = append(inFlight, got...)
		if len(inFlight) > 200 { // settle the oldest, as a consumer acknowledges
			var receipts []string
			for _, m := range inFlight[:100] {
				receipts = append(receipts, m.Receipt)
			}
			if err := q.Delete(context.Background(), receipts); err != nil {
				t.Fatal(err)
			}
			inFlight = inFlight[100:]
		}
	}
	if s := q.Stats(); s.InFlight != len(inFlight) || s.Visible != 0 {
		t.Fatalf("stats = %+v, want %d in flight and none visible", s, len(inFlight))
	}
	// Release the rest: they come back in send order.
	var changes []delivery.VisibilityChange
	for _, m := range inFlight {
		changes = append(changes, delivery.VisibilityChange{Receipt: m.Receipt})
	}
	if err := q.ChangeVisibility(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	got := receive(t, q, len(inFlight)+10, time.Hour)
	if fmt.Sprint(bodies(got)) != fmt.Sprint(bodies(inFlight)) {
		t.Fatalf("released messages came back as %v, want %v", bodies(got), bodies(inFlight))
	}
}

// BenchmarkReceiveWithManyInFlight receives one message at a time from a
// backlog while 500 are in flight, as the local consumer does at its
// maxInFlight (one slot frees, one message is received).
func BenchmarkReceiveWithManyInFlight(b *testing.B) {
	q := memqueue.New(memqueue.Config{Name: "q", VisibilityTimeout: time.Hour})
	send(b, q, 500)
	inFlight := receive(b, q, 500, time.Hour)
	b.ResetTimer()
	for i := range b.N {
		if _, err := q.Send(fmt.Sprint(i), nil, ""); err != nil {
			b.Fatal(err)
		}
		got := receive(b, q, 1, time.Hour)
		if len(got) != 1 {
			b.Fatalf("received %d", len(got))
		}
		if err := q.Delete(context.Background(), []string{inFlight[0].Receipt}); err != nil {
			b.Fatal(err)
		}
		inFlight = append(inFlight[1:], got[0])
	}
}

// A long poll returns as soon as a message is sent, and ids keep SQS's
// local form <queue>-<8-digit sequence>.
func TestLongPollWakesOnSend(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "q", WaitTime: 5 * time.Second})
	got := make(chan []delivery.Message)
	go func() {
		ms, err := q.Receive(context.Background(), 10)
		if err != nil {
			t.Error(err)
		}
		got <- ms
	}()
	time.Sleep(50 * time.Millisecond) // the receive is waiting
	start := time.Now()
	if _, err := q.Send("hello", nil, ""); err != nil {
		t.Fatal(err)
	}
	ms := <-got
	if len(ms) != 1 || ms[0].Body != "hello" || ms[0].MessageID != "q-00000001" {
		t.Fatalf("received %+v", ms)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the long poll returned %v after the send, not at once", d)
	}
	// A cancelled long poll returns the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := q.Receive(ctx, 10); err != context.DeadlineExceeded {
		t.Fatalf("cancelled receive: %v", err)
	}
}
