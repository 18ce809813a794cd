package operator_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eventplane/eventplane/consumers/admin"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/route"
)

// AdminInFlight reads the count from a real consumer engine's admin
// endpoint while a handler holds two messages.
func TestAdminInFlightReadsTheConsumersAdminPort(t *testing.T) {
	q := memqueue.New(memqueue.Config{Name: "work", VisibilityTimeout: time.Minute})
	release := make(chan struct{})
	eng, err := engine.New(engine.Options{
		Source: q, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Routes: []route.Route[delivery.Handler]{{Name: "all", Handler: delivery.HandlerFunc(func(context.Context, *ce.Event) error { <-release; return nil })}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	defer func() { close(release); cancel(); <-done }()
	srv := httptest.NewServer(admin.Handler(eng, prometheus.NewRegistry()))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	src := operator.AdminInFlight{Port: p}
	pod := &corev1.Pod{Status: corev1.PodStatus{PodIP: host}}

	for _, id := range []string{"1", "2"} {
		if _, err := q.Send(`{"specversion":"1.0","id":"`+id+`","source":"t","type":"t"}`, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := src.InFlight(context.Background(), pod)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in flight = %d, %v; want 2", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := src.InFlight(context.Background(), &corev1.Pod{}); err == nil {
		t.Error("a pod without an IP gave no error")
	}
}

// slowInFlight answers after a delay, as a busy or distant pod does, and
// records how many reads ran at once.
type slowInFlight struct {
	delay     time.Duration
	mu        sync.Mutex
	now, peak int
}

func (s *slowInFlight) InFlight(ctx context.Context, pod *corev1.Pod) (int, error) {
	s.mu.Lock()
	s.now++
	s.peak = max(s.peak, s.now)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.now--; s.mu.Unlock() }()
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
	}
	return len(pod.Name), nil
}

// Pods' in-flight counts are read a few at a time, not one after the
// other: before, 12 pods each taking 300ms held one Sync for 3.6s (and a
// pod that times out at 2s held all the others back).
func TestDeletionCostReadsPodsInParallel(t *testing.T) {
	c := kubetest.Start(t)
	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	cl := c.Client(t, client.Options{Scheme: scheme})
	ctx := context.Background()
	ec := consumer("busy", "https://sqs.eu-west-1.amazonaws.com/123456789012/busy")
	kubetest.Must(t, "EventConsumer", cl.Create(ctx, ec))
	for i := range 12 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("busy-%02d", i), Namespace: "default", Labels: map[string]string{operator.LabelConsumer: "busy"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "consumer", Image: "x:1"}}}}
		kubetest.Must(t, "pod", cl.Create(ctx, p))
		p.Status.Phase = corev1.PodRunning
		kubetest.Must(t, "pod status", cl.Status().Update(ctx, p))
	}
	src := &slowInFlight{delay: 300 * time.Millisecond}
	d := &operator.DeletionCost{Client: cl, Source: src, Parallel: 4}
	start := time.Now()
	kubetest.Must(t, "sync", d.Sync(ctx))
	took := time.Since(start)
	t.Logf("12 pods at 300ms each: one Sync took %v, %d reads at once", took.Round(time.Millisecond), src.peak)
	if took > 1500*time.Millisecond || src.peak < 2 || src.peak > 4 {
		t.Errorf("Sync took %v with %d reads at once, want about 3 rounds of 300ms and at most Parallel=4 at once", took, src.peak)
	}
	var pods corev1.PodList
	kubetest.Must(t, "list", cl.List(ctx, &pods, client.InNamespace("default")))
	for _, p := range pods.Items {
		if p.Annotations[operator.DeletionCostAnnotation] != strconv.Itoa(len(p.Name)) {
			t.Errorf("pod %s deletion cost %q, want %d", p.Name, p.Annotations[operator.DeletionCostAnnotation], len(p.Name))
		}
	}
}
