package operator_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
)

// Queue polling is rate-limited per EventConsumer: a Deployment whose
// status changes many times a second (a rollout, KEDA scaling, pods coming
// and going) triggers a reconcile each time, and before, every one of them
// cost two SQS requests (queue + DLQ). Now a reconcile reuses the figures
// of a poll younger than the poll interval (1s here): the SQS requests per
// EventConsumer stay at two per interval however busy the Deployment is.
func TestQueuePollIsRateLimitedPerEventConsumer(t *testing.T) {
	h := start(t)
	url, _ := h.queue("pollrate")
	kubetest.Must(t, "create", h.c.Create(h.ctx, consumer("pollrate", url)))
	wait(t, h, "pollrate", &appsv1.Deployment{}, "Deployment", nil)
	time.Sleep(2 * time.Second) // the DLQ URL is learnt on the first polls

	before := h.count("GetQueueAttributes")
	start := time.Now()
	changes := 0
	for time.Since(start) < 6*time.Second {
		var d appsv1.Deployment
		kubetest.Must(t, "get Deployment", h.get("pollrate", &d))
		changes++
		d.Status.ObservedGeneration = int64(changes)
		d.Status.Replicas = int32(changes % 3)
		if err := h.c.Status().Update(h.ctx, &d); err != nil {
			continue // a conflict with the operator's own write: try again
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	n := h.count("GetQueueAttributes") - before
	perMinute := float64(n) / elapsed.Minutes()
	t.Logf("%d Deployment status changes in %v: %d GetQueueAttributes = %.0f SQS requests per EventConsumer per minute (poll interval 1s: at most 120)",
		changes, elapsed.Round(time.Millisecond), n, perMinute)
	if limit := 2 * (int(elapsed.Seconds()) + 2); n > limit {
		t.Errorf("%d GetQueueAttributes in %v of Deployment churn, want at most %d (two per 1s poll)", n, elapsed.Round(time.Millisecond), limit)
	}
}
