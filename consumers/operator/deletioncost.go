package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/eventplane/eventplane/api/v1alpha1"
)

// InFlightSource tells how many messages a consumer pod is working on.
type InFlightSource interface {
	InFlight(ctx context.Context, pod *corev1.Pod) (int, error)
}

// AdminInFlight reads a pod's in-flight message count from its admin port
// (GET /inflight: a number, no event data; /debug is on the pod's loopback
// and out of the operator's reach).
type AdminInFlight struct {
	Client *http.Client
	// Port is the admin port (0: AdminPort).
	Port int
}

// InFlight implements InFlightSource.
func (a AdminInFlight) InFlight(ctx context.Context, pod *corev1.Pod) (int, error) {
	if pod.Status.PodIP == "" {
		return 0, fmt.Errorf("pod %s has no IP yet", pod.Name)
	}
	port := a.Port
	if port == 0 {
		port = AdminPort
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port))+"/inflight", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	c := a.Client
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("pod %s: GET /inflight: %s", pod.Name, resp.Status)
	}
	var n struct {
		InFlight *int `json:"inFlight"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&n); err != nil || n.InFlight == nil {
		return 0, fmt.Errorf("pod %s: /inflight: not {\"inFlight\": N}: %v", pod.Name, err)
	}
	return *n.InFlight, nil
}

// DeletionCost keeps every consumer pod's pod-deletion-cost annotation equal
// to its in-flight messages, so that when KEDA's HPA lowers the replica
// count the ReplicaSet removes idle pods first and busy ones last. It runs
// on the leader only, outside the reconcile loop, and reads pods' counts a
// few at a time (Parallel) so that one slow pod does not hold up the rest.
type DeletionCost struct {
	Client   client.Client
	Source   InFlightSource
	Interval time.Duration
	// Parallel bounds the in-flight reads running at once (default 8).
	Parallel int
}

// Start implements manager.Runnable.
func (d *DeletionCost) Start(ctx context.Context) error {
	t := time.NewTicker(d.Interval)
	defer t.Stop()
	for {
		if err := d.Sync(ctx); err != nil && ctx.Err() == nil {
			log.FromContext(ctx).Error(err, "pod deletion cost")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sync updates the deletion cost of every running consumer pod once. A pod
// whose in-flight count cannot be read keeps its last cost.
func (d *DeletionCost) Sync(ctx context.Context) error {
	var ecs v1alpha1.EventConsumerList
	if err := d.Client.List(ctx, &ecs); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	limit := d.Parallel
	if limit <= 0 {
		limit = 8
	}
	g.SetLimit(limit)
	for i := range ecs.Items {
		ec := &ecs.Items[i]
		var pods corev1.PodList
		if err := d.Client.List(ctx, &pods, client.InNamespace(ec.Namespace), client.MatchingLabels(selectorLabels(ec))); err != nil {
			return err
		}
		for j := range pods.Items {
			pod := &pods.Items[j]
			if pod.Status.Phase != corev1.PodRunning || !pod.DeletionTimestamp.IsZero() {
				continue
			}
			g.Go(func() error { return d.update(gctx, pod) })
		}
	}
	return g.Wait()
}

func (d *DeletionCost) update(ctx context.Context, pod *corev1.Pod) error {
	n, err := d.Source.InFlight(ctx, pod)
	if err != nil {
		log.FromContext(ctx).V(1).Info("in-flight count unavailable", "pod", pod.Name, "error", err.Error())
		return nil
	}
	cost := strconv.Itoa(n)
	if pod.Annotations[DeletionCostAnnotation] == cost {
		return nil
	}
	patch := client.MergeFrom(pod.DeepCopy())
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[DeletionCostAnnotation] = cost
	if err := d.Client.Patch(ctx, pod, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (d *DeletionCost) NeedLeaderElection() bool { return true }
