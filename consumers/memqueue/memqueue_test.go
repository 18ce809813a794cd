package memqueue

import (
	"context"
	"testing"
	"time"
)

// A message sent to a delay queue is invisible for the queue's Delay, and
// one saved while still delayed (eventplane dev stopping) is restored
// still delayed, not visible at once.
func TestDelayQueueKeepsMessagesInvisibleAcrossRestore(t *testing.T) {
	q := New(Config{Name: "slow", Delay: 300 * time.Millisecond})
	if _, err := q.Send("b", nil, ""); err != nil {
		t.Fatal(err)
	}
	saved := q.Save()
	if len(saved) != 1 || saved[0].DelayedUntil.IsZero() {
		t.Fatalf("saved %+v, want the message with its DelayedUntil", saved)
	}
	back := New(Config{Name: "slow"})
	back.Restore(saved)
	queues := []struct {
		name string
		q    *Queue
	}{{"sent", q}, {"restored", back}}
	for _, x := range queues {
		if got, _ := x.q.ReceiveWith(context.Background(), 10, 0, time.Second); len(got) != 0 {
			t.Errorf("%s: received %d messages at once, want none during the delay", x.name, len(got))
		}
		if s := x.q.Stats(); s.Delayed != 1 {
			t.Errorf("%s: stats %+v, want 1 delayed", x.name, s)
		}
	}
	for _, x := range queues {
		if got, _ := x.q.ReceiveWith(context.Background(), 10, time.Second, time.Second); len(got) != 1 {
			t.Errorf("%s: received %d messages after the delay, want 1", x.name, len(got))
		}
	}
}
