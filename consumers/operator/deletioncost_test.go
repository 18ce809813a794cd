package operator_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"

	"github.com/eventplane/eventplane/consumers/admin"
	"github.com/eventplane/eventplane/consumers/engine"
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
		Routes: []route.Route[engine.Handler]{{Name: "all", Handler: engine.HandlerFunc(func(context.Context, *ce.Event) error { <-release; return nil })}},
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
