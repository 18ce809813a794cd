package operator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/go-logr/logr"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/sqs"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

type harness struct {
	t        *testing.T
	ctx      context.Context
	cluster  *kubetest.Cluster
	c        client.Client
	sqs      *awssqs.Client
	inflight *kubetest.InFlight
	cached   client.Client // the operator's own (cache-backed) client

	mu       sync.Mutex
	requests map[string]int // the operator's SQS requests by API
}

func (h *harness) count(api string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[api]
}

// start runs the API server, kube-controller-manager's garbage collector
// and the operator (in this process, with a 1s queue poll).
func start(t *testing.T) *harness {
	t.Helper()
	return startWith(t, nil)
}

// startWith is start with the operator's SQS client wrapped (nil: as is).
func startWith(t *testing.T, wrap func(sqs.AdminAPI) sqs.AdminAPI) *harness {
	t.Helper()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	cl := kubetest.Start(t)
	cl.StartControllerManager(t, "garbagecollector")
	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	moto := motoserver.Shared(t)
	awsCfg := moto.Config()
	sqsClient := awssqs.NewFromConfig(awsCfg)
	h := &harness{t: t, cluster: cl, sqs: sqsClient, inflight: kubetest.NewInFlight(), requests: map[string]int{}}
	// The operator's own client counts its requests by API.
	opCfg := moto.Config()
	opCfg.APIOptions = append(opCfg.APIOptions, awsconf.CountRequests(func(_, api string) {
		h.mu.Lock()
		h.requests[api]++
		h.mu.Unlock()
	}))
	var opClient sqs.AdminAPI = awssqs.NewFromConfig(opCfg)
	if wrap != nil {
		opClient = wrap(opClient)
	}
	// Several tests each run an operator in this process: their controllers
	// share a name.
	mgr, err := ctrl.NewManager(cl.Config, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr(true)}, Cache: operator.CacheOptions(nil)})
	kubetest.Must(t, "manager", err)
	kubetest.Must(t, "setup", operator.Setup(mgr, operator.Options{
		SQS:                  func(context.Context, string) (sqs.AdminAPI, error) { return opClient, nil },
		QueuePollInterval:    time.Second,
		ConsumerEndpoint:     moto.Endpoint,
		InFlight:             h.inflight,
		DeletionCostInterval: 200 * time.Millisecond,
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator: %v", err)
		}
	})
	h.ctx = ctx
	h.c = cl.Client(t, client.Options{Scheme: scheme})
	h.cached = mgr.GetClient()
	return h
}

// queue creates a moto queue with a DLQ (maxReceiveCount 3).
func (h *harness) queue(name string) (url, dlq string) {
	h.t.Helper()
	d, err := h.sqs.CreateQueue(h.ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	kubetest.Must(h.t, "create DLQ", err)
	a, err := h.sqs.GetQueueAttributes(h.ctx, &awssqs.GetQueueAttributesInput{QueueUrl: d.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	kubetest.Must(h.t, "DLQ ARN", err)
	q, err := h.sqs.CreateQueue(h.ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":3}`, a.Attributes["QueueArn"]),
	}})
	kubetest.Must(h.t, "create queue", err)
	return aws.ToString(q.QueueUrl), aws.ToString(d.QueueUrl)
}

func (h *harness) send(url string, n int) {
	h.t.Helper()
	for i := range n {
		_, err := h.sqs.SendMessage(h.ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"n":` + strconv.Itoa(i) + `}`)})
		kubetest.Must(h.t, "send", err)
	}
}

func consumer(name, url string) *v1alpha1.EventConsumer {
	return &v1alpha1.EventConsumer{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1alpha1.EventConsumerSpec{
			Image:  "ghcr.io/eventplane/eventplane:1.0.0",
			Queue:  v1alpha1.QueueSpec{URL: url, Region: "us-east-1"},
			Routes: []v1alpha1.RouteSpec{{Name: "orders", Handler: "log", Pattern: &apiextensionsv1.JSON{Raw: []byte(`{"type":["order.placed.v1"]}`)}}},
			Scaling: v1alpha1.ScalingSpec{MinReplicas: 0, MaxReplicas: 7, TargetQueueLength: 5, ActivationQueueLength: 2,
				PollingIntervalSeconds: 10, CooldownSeconds: 60, ScaleOnInFlight: true, ScaleDownStabilizationSeconds: 45},
			MaxInFlight: 20, ReceiveBatch: 10,
			HandlerTimeout:         metav1.Duration{Duration: 2 * time.Minute},
			MaxVisibilityExtension: metav1.Duration{Duration: time.Hour},
			Identity:               v1alpha1.IdentitySpec{RoleARN: "arn:aws:iam::123456789012:role/orders-consumer"},
			Env:                    []corev1.EnvVar{{Name: "TENANT", Value: "acme"}},
			Pod:                    v1alpha1.PodSpec{NodeSelector: map[string]string{"type": "kwok"}},
		},
	}
}

func (h *harness) get(name string, obj client.Object) error {
	return h.c.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: name}, obj)
}

// wait polls until get(name, obj) succeeds and check passes.
func wait[T client.Object](t *testing.T, h *harness, name string, obj T, what string, check func(T) string) {
	t.Helper()
	kubetest.Eventually(t, 20*time.Second, what, func() (bool, string) {
		if err := h.get(name, obj); err != nil {
			return false, err.Error()
		}
		if check == nil {
			return true, ""
		}
		msg := check(obj)
		return msg == "", msg
	})
}

// The whole life of an EventConsumer against a real API server: its
// children appear with the right content, follow spec changes, come back
// after drift or deletion, carry the queue's figures in the status, pause,
// redrive, and go away with it.
func TestEventConsumerLifecycle(t *testing.T) {
	h := start(t)
	url, dlq := h.queue("orders-lifecycle")
	ec := consumer("orders", url)
	kubetest.Must(t, "create", h.c.Create(h.ctx, ec))

	t.Run("children", func(t *testing.T) {
		sa := &corev1.ServiceAccount{}
		wait(t, h, "orders", sa, "ServiceAccount", nil)
		if sa.Annotations[operator.IRSAAnnotation] != "arn:aws:iam::123456789012:role/orders-consumer" {
			t.Errorf("ServiceAccount annotations = %v, want the IRSA role", sa.Annotations)
		}
		cm := &corev1.ConfigMap{}
		wait(t, h, "orders-config", cm, "ConfigMap", nil)
		cfg := config.Default()
		if err := json.Unmarshal([]byte(cm.Data["consumer.json"]), &cfg); err != nil {
			t.Fatalf("ConfigMap consumer.json: %v\n%s", err, cm.Data["consumer.json"])
		}
		if err := cfg.Validate(handlers.NewRegistry().Has); err != nil {
			t.Errorf("rendered consumer config is invalid for the consumer: %v", err)
		}
		if cfg.Queue.URL != url || cfg.Consumer.HandlerTimeout.D() != 2*time.Minute || cfg.Consumer.ShutdownGrace.D() != 2*time.Minute ||
			len(cfg.Routes) != 1 || compact(cfg.Routes[0].Pattern) != `{"type":["order.placed.v1"]}` || cfg.Admin.Addr != ":9090" {
			t.Errorf("rendered config = %+v", cfg)
		}

		dep := &appsv1.Deployment{}
		wait(t, h, "orders", dep, "Deployment", nil)
		pod := dep.Spec.Template.Spec
		ctr := pod.Containers[0]
		if got := *pod.TerminationGracePeriodSeconds; got != 150 {
			t.Errorf("terminationGracePeriodSeconds = %d, want handler timeout 120 + 30", got)
		}
		sc := ctr.SecurityContext
		if !*pod.SecurityContext.RunAsNonRoot || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
			len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("security context is not restricted: pod %+v container %+v", pod.SecurityContext, sc)
		}
		if ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || ctr.LivenessProbe.HTTPGet.Path != "/healthz" || ctr.Ports[0].ContainerPort != 9090 {
			t.Errorf("probes/ports = %+v %+v %+v", ctr.ReadinessProbe, ctr.LivenessProbe, ctr.Ports)
		}
		if pod.ServiceAccountName != "orders" || *pod.AutomountServiceAccountToken || pod.NodeSelector["type"] != "kwok" {
			t.Errorf("pod spec: sa %q automount %v nodeSelector %v", pod.ServiceAccountName, *pod.AutomountServiceAccountToken, pod.NodeSelector)
		}
		env := map[string]string{}
		for _, e := range ctr.Env {
			env[e.Name] = e.Value
		}
		if env["TENANT"] != "acme" || env["AWS_REGION"] != "us-east-1" {
			t.Errorf("env = %v", env)
		}
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 0 {
			t.Errorf("new Deployment has %v replicas, want minReplicas 0 (no pod before KEDA looks at the queue)", dep.Spec.Replicas)
		}
		if len(dep.OwnerReferences) != 1 || dep.OwnerReferences[0].Kind != "EventConsumer" || !*dep.OwnerReferences[0].Controller {
			t.Errorf("owner references = %+v", dep.OwnerReferences)
		}

		so := &kedav1alpha1.ScaledObject{}
		wait(t, h, "orders", so, "ScaledObject", nil)
		tr := so.Spec.Triggers[0]
		want := map[string]string{"queueURL": url, "queueLength": "5", "activationQueueLength": "2", "scaleOnInFlight": "true", "awsRegion": "us-east-1"}
		for k, v := range want {
			if tr.Metadata[k] != v {
				t.Errorf("trigger metadata %s = %q, want %q", k, tr.Metadata[k], v)
			}
		}
		if tr.Type != "aws-sqs-queue" || tr.AuthenticationRef.Name != "orders" || *so.Spec.MinReplicaCount != 0 || *so.Spec.MaxReplicaCount != 7 ||
			*so.Spec.CooldownPeriod != 60 || *so.Spec.PollingInterval != 10 || so.Spec.ScaleTargetRef.Name != "orders" ||
			*so.Spec.Advanced.HorizontalPodAutoscalerConfig.Behavior.ScaleDown.StabilizationWindowSeconds != 45 {
			t.Errorf("ScaledObject spec = %+v", so.Spec)
		}
		ta := &kedav1alpha1.TriggerAuthentication{}
		wait(t, h, "orders", ta, "TriggerAuthentication", nil)
		if ta.Spec.PodIdentity == nil || ta.Spec.PodIdentity.Provider != kedav1alpha1.PodIdentityProviderAws || aws.ToString(ta.Spec.PodIdentity.RoleArn) != ec.Spec.Identity.RoleARN {
			t.Errorf("TriggerAuthentication = %+v", ta.Spec)
		}
		wait(t, h, "orders", &corev1.Service{}, "Service", func(s *corev1.Service) string {
			if s.Spec.Ports[0].Port != 9090 || s.Spec.Selector[operator.LabelConsumer] != "orders" {
				return fmt.Sprintf("%+v", s.Spec)
			}
			return ""
		})
		wait(t, h, "orders", &policyv1.PodDisruptionBudget{}, "PodDisruptionBudget", nil)
	})

	t.Run("update follows", func(t *testing.T) {
		var before appsv1.Deployment
		kubetest.Must(t, "get", h.get("orders", &before))
		patchSpec(h, "orders", func(ec *v1alpha1.EventConsumer) {
			ec.Spec.Scaling.TargetQueueLength = 9
			ec.Spec.Routes = append(ec.Spec.Routes, v1alpha1.RouteSpec{Name: "all", Handler: "log"})
		})
		wait(t, h, "orders", &kedav1alpha1.ScaledObject{}, "queueLength 9", func(so *kedav1alpha1.ScaledObject) string {
			if q := so.Spec.Triggers[0].Metadata["queueLength"]; q != "9" {
				return "queueLength " + q
			}
			return ""
		})
		wait(t, h, "orders-config", &corev1.ConfigMap{}, "second route in config", func(cm *corev1.ConfigMap) string {
			if !strings.Contains(cm.Data["consumer.json"], `"name": "all"`) {
				return cm.Data["consumer.json"]
			}
			return ""
		})
		// The pod template changes with the config, so pods restart with it.
		wait(t, h, "orders", &appsv1.Deployment{}, "config hash changes", func(d *appsv1.Deployment) string {
			if d.Spec.Template.Annotations["eventplane.io/config-hash"] == before.Spec.Template.Annotations["eventplane.io/config-hash"] {
				return "hash unchanged"
			}
			return ""
		})
	})

	t.Run("drift corrected", func(t *testing.T) {
		var so kedav1alpha1.ScaledObject
		kubetest.Must(t, "get", h.get("orders", &so))
		so.Spec.MaxReplicaCount = ptr(int32(100))
		kubetest.Must(t, "hand edit", h.c.Update(h.ctx, &so))
		wait(t, h, "orders", &kedav1alpha1.ScaledObject{}, "maxReplicaCount back to 7", func(so *kedav1alpha1.ScaledObject) string {
			if *so.Spec.MaxReplicaCount != 7 {
				return fmt.Sprint(*so.Spec.MaxReplicaCount)
			}
			return ""
		})
		var dep appsv1.Deployment
		kubetest.Must(t, "get", h.get("orders", &dep))
		dep.Spec.Template.Spec.Containers[0].Image = "evil:latest"
		kubetest.Must(t, "hand edit", h.c.Update(h.ctx, &dep))
		wait(t, h, "orders", &appsv1.Deployment{}, "image restored", func(d *appsv1.Deployment) string {
			if img := d.Spec.Template.Spec.Containers[0].Image; img != ec.Spec.Image {
				return img
			}
			return ""
		})
		kubetest.Must(t, "delete", h.c.Delete(h.ctx, &kedav1alpha1.TriggerAuthentication{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "default"}}))
		wait(t, h, "orders", &kedav1alpha1.TriggerAuthentication{}, "TriggerAuthentication recreated", func(ta *kedav1alpha1.TriggerAuthentication) string {
			if !ta.DeletionTimestamp.IsZero() {
				return "still the deleted one"
			}
			return ""
		})
	})

	t.Run("status from the queue", func(t *testing.T) {
		h.send(url, 7)
		h.send(dlq, 2)
		wait(t, h, "orders", &v1alpha1.EventConsumer{}, "depth 7 and DLQ 2 in status", func(ec *v1alpha1.EventConsumer) string {
			q := ec.Status.Queue
			c := meta.FindStatusCondition(ec.Status.Conditions, v1alpha1.ConditionDegraded)
			if q.Depth != 7 || q.DeadLetterDepth != 2 || q.DeadLetterURL != dlq || c == nil || c.Reason != "DeadLetters" {
				return fmt.Sprintf("%+v %+v", q, c)
			}
			return ""
		})
		if v := gauge(t, "eventplane_operator_queue_messages", map[string]string{"consumer": "orders", "state": "visible"}); v != 7 {
			t.Errorf("eventplane_operator_queue_messages{state=visible} = %v, want 7", v)
		}
		if v := gauge(t, "eventplane_operator_queue_messages", map[string]string{"consumer": "orders", "state": "dead_letter"}); v != 2 {
			t.Errorf("eventplane_operator_queue_messages{state=dead_letter} = %v, want 2", v)
		}
		// Once the DLQ URL is known, a poll costs GetQueueAttributes on the
		// queue and on the DLQ, and no GetQueueUrl.
		urls, attrs := h.count("GetQueueUrl"), h.count("GetQueueAttributes")
		time.Sleep(3 * time.Second)
		if n := h.count("GetQueueUrl") - urls; n != 0 {
			t.Errorf("%d GetQueueUrl requests in 3 polls: the DLQ URL is resolved again each poll", n)
		}
		if n := h.count("GetQueueAttributes") - attrs; n < 2 {
			t.Errorf("%d GetQueueAttributes requests in 3s of 1s polls: the status is not refreshed", n)
		} else {
			t.Logf("SQS requests in 3s of 1s polls: %d GetQueueAttributes (queue + DLQ per poll), 0 GetQueueUrl", n)
		}
		out, err := h.cluster.Kubectl(t, nil, "get", "eventconsumers", "-n", "default")
		if err != nil {
			t.Fatalf("kubectl get eventconsumers: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
		wantHeader := []string{"NAME", "QUEUE", "DEPTH", "IN-FLIGHT", "DLQ", "REPLICAS", "READY", "AGE"}
		if strings.Join(header, " ") != strings.Join(wantHeader, " ") || row[0] != "orders" || row[1] != url || row[2] != "7" || row[4] != "2" {
			t.Errorf("kubectl get eventconsumers:\n%s", out)
		}
	})

	t.Run("redrive", func(t *testing.T) {
		patchAnnotation(h, "orders", v1alpha1.RedriveAnnotation, "r1")
		wait(t, h, "orders", &v1alpha1.EventConsumer{}, "redrive recorded", func(ec *v1alpha1.EventConsumer) string {
			r := ec.Status.LastRedrive
			if r == nil || r.Request != "r1" || r.Moved != 2 || r.Error != "" || ec.Status.Queue.DeadLetterDepth != 0 || ec.Status.Queue.Depth != 9 {
				return fmt.Sprintf("%+v %+v", r, ec.Status.Queue)
			}
			return ""
		})
		kubetest.Eventually(t, 10*time.Second, "a Redriven event", func() (bool, string) {
			var evs eventsv1.EventList
			if err := h.c.List(h.ctx, &evs, client.InNamespace("default")); err != nil {
				return false, err.Error()
			}
			for _, e := range evs.Items {
				if e.Reason == "Redriven" && e.Regarding.Name == "orders" && strings.Contains(e.Note, "moved 2 messages") {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d events", len(evs.Items))
		})
	})

	t.Run("pause", func(t *testing.T) {
		patchSpec(h, "orders", func(ec *v1alpha1.EventConsumer) { ec.Spec.Paused = true })
		wait(t, h, "orders", &kedav1alpha1.ScaledObject{}, "KEDA paused at 0", func(so *kedav1alpha1.ScaledObject) string {
			if so.Annotations[operator.KEDAPausedReplicas] != "0" {
				return fmt.Sprint(so.Annotations)
			}
			return ""
		})
		wait(t, h, "orders", &appsv1.Deployment{}, "0 replicas", func(d *appsv1.Deployment) string {
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
				return fmt.Sprint(d.Spec.Replicas)
			}
			return ""
		})
		patchSpec(h, "orders", func(ec *v1alpha1.EventConsumer) { ec.Spec.Paused = false })
		wait(t, h, "orders", &kedav1alpha1.ScaledObject{}, "KEDA resumed", func(so *kedav1alpha1.ScaledObject) string {
			if _, ok := so.Annotations[operator.KEDAPausedReplicas]; ok {
				return fmt.Sprint(so.Annotations)
			}
			return ""
		})
	})

	t.Run("deletion cost", func(t *testing.T) {
		for i, n := range []int{0, 4, 1} {
			name := fmt.Sprintf("orders-pod-%d", i)
			p := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{operator.LabelConsumer: "orders"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "consumer", Image: ec.Spec.Image}}},
			}
			kubetest.Must(t, "create pod", h.c.Create(h.ctx, p))
			p.Status.Phase = corev1.PodRunning
			kubetest.Must(t, "pod status", h.c.Status().Update(h.ctx, p))
			h.inflight.Set(name, n)
		}
		for i, want := range []string{"0", "4", "1"} {
			wait(t, h, fmt.Sprintf("orders-pod-%d", i), &corev1.Pod{}, "deletion cost "+want, func(p *corev1.Pod) string {
				if got := p.Annotations[operator.DeletionCostAnnotation]; got != want {
					return "cost " + got
				}
				return ""
			})
		}
		h.inflight.Set("orders-pod-1", 0)
		wait(t, h, "orders-pod-1", &corev1.Pod{}, "cost follows in-flight work down", func(p *corev1.Pod) string {
			if got := p.Annotations[operator.DeletionCostAnnotation]; got != "0" {
				return "cost " + got
			}
			return ""
		})
	})

	t.Run("delete collects children", func(t *testing.T) {
		kubetest.Must(t, "delete", h.c.Delete(h.ctx, &v1alpha1.EventConsumer{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "default"}}))
		for name, obj := range map[string]client.Object{
			"orders": &appsv1.Deployment{}, "orders-config": &corev1.ConfigMap{}, "orders ": &kedav1alpha1.ScaledObject{},
		} {
			kubetest.Eventually(t, 30*time.Second, fmt.Sprintf("%T %s garbage-collected", obj, name), func() (bool, string) {
				err := h.get(strings.TrimSpace(name), obj)
				return apierrors.IsNotFound(err), fmt.Sprint(err)
			})
		}
	})
}

func patchSpec(h *harness, name string, mutate func(*v1alpha1.EventConsumer)) {
	h.t.Helper()
	var ec v1alpha1.EventConsumer
	kubetest.Must(h.t, "get", h.get(name, &ec))
	orig := ec.DeepCopy()
	mutate(&ec)
	kubetest.Must(h.t, "patch", h.c.Patch(h.ctx, &ec, client.MergeFrom(orig)))
}

func patchAnnotation(h *harness, name, key, value string) {
	patchSpec(h, name, func(ec *v1alpha1.EventConsumer) {
		if ec.Annotations == nil {
			ec.Annotations = map[string]string{}
		}
		ec.Annotations[key] = value
	})
}

func ptr[T any](v T) *T { return &v }

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return err.Error()
	}
	return out.String()
}

// gauge reads a series from the operator's metrics registry (-1 if absent).
func gauge(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := crmetrics.Registry.Gather()
	kubetest.Must(t, "gather metrics", err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
