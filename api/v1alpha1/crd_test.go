package v1alpha1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/eventplane/eventplane/api/v1alpha1"
)

// assets finds etcd and kube-apiserver built by hack/kube.sh.
func assets(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "eventplane", "kube")
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("%s not found in %s: build the control plane with `hack/kube.sh`", b, dir)
		}
	}
	return dir
}

// The generated CRD is installed into a real kube-apiserver: a valid
// EventConsumer is accepted with its defaults, impossible specs are rejected
// by the CRD's CEL rules and schema with clear messages.
func TestCRDValidation(t *testing.T) {
	tmp, err := os.MkdirTemp("", "eventplane-envtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets(t),
		CRDDirectoryPaths:     []string{"../../charts/eventplane/crds"},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		// A CRD the API server refuses fails Start after etcd and
		// kube-apiserver are up: stop them, or they outlive the test.
		_ = env.Stop()
		_ = os.RemoveAll(tmp)
		t.Fatal(err)
	}
	defer func() { _ = env.Stop(); _ = os.RemoveAll(tmp) }()
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	_ = corev1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	valid := func(name string) *v1alpha1.EventConsumer {
		return &v1alpha1.EventConsumer{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: v1alpha1.EventConsumerSpec{
				Image:  "ghcr.io/eventplane/eventplane:1.0.0",
				Queue:  v1alpha1.QueueSpec{URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"},
				Routes: []v1alpha1.RouteSpec{{Name: "store", Handler: "store", Pattern: &apiextensionsv1.JSON{Raw: []byte(`{"type":["order.v1"]}`)}}},
				Scaling: v1alpha1.ScalingSpec{MinReplicas: 0, MaxReplicas: 5, TargetQueueLength: 5, PollingIntervalSeconds: 15,
					CooldownSeconds: 60, ScaleDownStabilizationSeconds: 60},
				MaxInFlight: 20, ReceiveBatch: 10,
				HandlerTimeout:         metav1.Duration{Duration: 5 * time.Minute},
				MaxVisibilityExtension: metav1.Duration{Duration: time.Hour},
			},
		}
	}
	ok := valid("orders")
	if err := c.Create(ctx, ok); err != nil {
		t.Fatalf("valid EventConsumer rejected: %v", err)
	}
	// A handler the SDK registers (consumer.Handle("enrich", ...)) is not
	// one of the built-in names, and a route may name it all the same.
	for _, h := range []string{"enrich", "enrichOrders", "enrich-orders.v2"} {
		custom := valid("custom-" + strings.ToLower(strings.NewReplacer(".", "-").Replace(h)))
		custom.Spec.Routes[0].Handler = h
		if err := c.Create(ctx, custom); err != nil {
			t.Errorf("route with the custom handler %q rejected: %v", h, err)
		}
	}
	var got v1alpha1.EventConsumer
	if err := c.Get(ctx, client.ObjectKeyFromObject(ok), &got); err != nil || string(got.Spec.Routes[0].Pattern.Raw) != `{"type":["order.v1"]}` {
		t.Fatalf("round trip: %v %+v", err, got.Spec.Routes)
	}
	cases := []struct {
		name   string
		mutate func(*v1alpha1.EventConsumer)
		want   string
	}{
		{"max below min", func(e *v1alpha1.EventConsumer) { e.Spec.Scaling.MinReplicas = 6 }, "maxReplicas must be at least minReplicas"},
		{"fifo flag without .fifo url", func(e *v1alpha1.EventConsumer) { e.Spec.Queue.FIFO = true }, "a FIFO queue's URL ends in .fifo"},
		{".fifo url without the flag", func(e *v1alpha1.EventConsumer) { e.Spec.Queue.URL += ".fifo" }, "a FIFO queue's URL ends in .fifo"},
		{"handler timeout above the extension", func(e *v1alpha1.EventConsumer) { e.Spec.HandlerTimeout.Duration = 2 * time.Hour }, "handlerTimeout must not exceed maxVisibilityExtension"},
		{"both identities", func(e *v1alpha1.EventConsumer) {
			e.Spec.Identity = v1alpha1.IdentitySpec{RoleARN: "arn:aws:iam::123456789012:role/x", PodIdentity: true}
		}, "use either roleArn (IRSA) or podIdentity"},
		{"handler name with a space", func(e *v1alpha1.EventConsumer) { e.Spec.Routes[0].Handler = "en rich" }, `spec.routes[0].handler in body should match '^[A-Za-z][A-Za-z0-9_.-]*$'`},
		{"handler name starting with a digit", func(e *v1alpha1.EventConsumer) { e.Spec.Routes[0].Handler = "1enrich" }, `spec.routes[0].handler in body should match '^[A-Za-z][A-Za-z0-9_.-]*$'`},
		{"empty handler name", func(e *v1alpha1.EventConsumer) { e.Spec.Routes[0].Handler = "" }, `spec.routes[0].handler in body should match '^[A-Za-z][A-Za-z0-9_.-]*$'`},
		{"handler name over 63 characters", func(e *v1alpha1.EventConsumer) { e.Spec.Routes[0].Handler = strings.Repeat("h", 64) }, "spec.routes[0].handler: Too long"},
		{"no routes", func(e *v1alpha1.EventConsumer) { e.Spec.Routes = nil }, "spec.routes"},
		{"receive batch over SQS's limit", func(e *v1alpha1.EventConsumer) { e.Spec.ReceiveBatch = 11 }, "spec.receiveBatch"},
		{"not a queue URL", func(e *v1alpha1.EventConsumer) { e.Spec.Queue.URL = "orders" }, "spec.queue.url"},
	}
	for _, tc := range cases {
		e := valid("bad-" + strings.ReplaceAll(strings.ToLower(tc.name), " ", "-"))
		tc.mutate(e)
		err := c.Create(ctx, e)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
