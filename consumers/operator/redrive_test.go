package operator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// stuckSends holds every SendMessageBatch (the redrive's copy step) until
// released: a redrive of a large DLQ, or a slow SQS.
type stuckSends struct {
	sqs.AdminAPI
	entered chan struct{}
	release chan struct{}
}

func (s *stuckSends) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, o ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.AdminAPI.SendMessageBatch(ctx, in, o...)
}

// A redrive runs outside the reconcile: while one is in progress (held up
// here), spec changes of the same EventConsumer still reach its Deployment.
// Before, Reconcile ran the redrive itself, and the only reconcile worker
// waited for it.
func TestRedriveDoesNotBlockReconciles(t *testing.T) {
	stuck := &stuckSends{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := startWith(t, func(api sqs.AdminAPI) sqs.AdminAPI { stuck.AdminAPI = api; return stuck })
	url, dlq := h.queue("redrive-async")
	h.send(dlq, 2)
	kubetest.Must(t, "create", h.c.Create(h.ctx, consumer("async", url)))
	wait(t, h, "async", &v1alpha1.EventConsumer{}, "DLQ depth 2 in status", func(ec *v1alpha1.EventConsumer) string {
		if ec.Status.Queue.DeadLetterDepth != 2 {
			return fmt.Sprintf("%+v", ec.Status.Queue)
		}
		return ""
	})
	patchAnnotation(h, "async", v1alpha1.RedriveAnnotation, "r1")
	select {
	case <-stuck.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the redrive did not start")
	}
	patchSpec(h, "async", func(ec *v1alpha1.EventConsumer) {
		ec.Spec.Env = []corev1.EnvVar{{Name: "TENANT", Value: "globex"}}
	})
	wait(t, h, "async", &appsv1.Deployment{}, "the spec change applied during the redrive", func(d *appsv1.Deployment) string {
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "TENANT" && e.Value == "globex" {
				return ""
			}
		}
		return fmt.Sprintf("env %v", d.Spec.Template.Spec.Containers[0].Env)
	})
	close(stuck.release)
	wait(t, h, "async", &v1alpha1.EventConsumer{}, "redrive recorded", func(ec *v1alpha1.EventConsumer) string {
		if r := ec.Status.LastRedrive; r == nil || r.Request != "r1" || r.Moved != 2 || r.Error != "" {
			return fmt.Sprintf("%+v", r)
		}
		return ""
	})
}
