package operator

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventplane/eventplane/consumers/sqs"
)

// The oldest message's age is a series only when the operator peeked
// (--peek-oldest): without a peek a 0 would read as "keeping up".
func TestOldestMessageAgeOnlyWhenPeeked(t *testing.T) {
	forget("obs-test", "orders")
	recordStats("obs-test", "orders", sqs.Stats{Depth: 3, OldestAge: 42 * time.Second}, false, nil)
	if n := testutil.CollectAndCount(oldestAge, "eventplane_operator_queue_oldest_message_age_seconds"); n != 0 {
		t.Errorf("%d oldest-age series without a peek, want none", n)
	}
	recordStats("obs-test", "orders", sqs.Stats{Depth: 3, OldestAge: 42 * time.Second}, true, nil)
	if v := testutil.ToFloat64(oldestAge.WithLabelValues("obs-test", "orders")); v != 42 {
		t.Errorf("oldest age = %v, want 42", v)
	}
	forget("obs-test", "orders")
	if n := testutil.CollectAndCount(oldestAge); n != 0 {
		t.Errorf("%d oldest-age series after the EventConsumer was deleted, want none", n)
	}
}
