package operator_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// raceHarness runs the Reconciler alone against a real API server, with a
// hook that runs once just before the first write (create or apply) of the
// child named target: between the ownership check and the write.
type raceHarness struct {
	ctx context.Context
	raw client.WithWatch
	rec *operator.Reconciler

	mu     sync.Mutex
	target string
	hook   func()
}

func startRace(t *testing.T) *raceHarness {
	t.Helper()
	cl := kubetest.Start(t)
	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	raw, err := client.NewWithWatch(cl.Config, client.Options{Scheme: scheme})
	kubetest.Must(t, "client", err)
	h := &raceHarness{ctx: context.Background(), raw: raw}
	before := func(name string) {
		h.mu.Lock()
		hook := h.hook
		if name == h.target {
			h.hook = nil
		}
		h.mu.Unlock()
		if hook != nil && name == h.target {
			hook()
		}
	}
	hooked := interceptor.NewClient(raw, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			before(obj.GetName())
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, ok := obj.(*appsv1.Deployment); ok {
				before("update Deployment " + obj.GetName())
			}
			return c.Update(ctx, obj, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if n, ok := obj.(interface{ GetName() string }); ok {
				before(n.GetName())
			}
			return c.Apply(ctx, obj, opts...)
		},
	})
	h.rec = &operator.Reconciler{Client: hooked, APIReader: raw, Scheme: scheme, Recorder: events.NewFakeRecorder(100),
		Options: operator.Options{SQS: func(context.Context, string) (sqs.AdminAPI, error) {
			return nil, errors.New("no SQS in this test: only the children matter")
		}}}
	return h
}

func (h *raceHarness) onFirstWrite(target string, hook func()) {
	h.mu.Lock()
	h.target, h.hook = target, hook
	h.mu.Unlock()
}

func (h *raceHarness) reconcile(name string) error {
	_, err := h.rec.Reconcile(h.ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: "default", Name: name}})
	return err
}

// foreignUntouched fails the test when the ConfigMap someone else created
// was changed or taken over, or (noScaledObject) when a ScaledObject was
// applied beside it.
func (h *raceHarness) foreignUntouched(t *testing.T, consumer string, want *corev1.ConfigMap, noScaledObject bool) {
	t.Helper()
	got := &corev1.ConfigMap{}
	kubetest.Must(t, "get the foreign ConfigMap", h.raw.Get(h.ctx, client.ObjectKeyFromObject(want), got))
	if got.ResourceVersion != want.ResourceVersion || len(got.OwnerReferences) != 0 || got.Data["keep"] != "me" || len(got.Data) != 1 {
		t.Errorf("the foreign ConfigMap was taken over: resourceVersion %s -> %s, owners %v, data %v",
			want.ResourceVersion, got.ResourceVersion, got.OwnerReferences, got.Data)
	}
	if err := h.raw.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: consumer}, &kedav1alpha1.ScaledObject{}); noScaledObject && !apierrors.IsNotFound(err) {
		t.Errorf("ScaledObject %s exists (%v) beside a foreign child", consumer, err)
	}
}

func (h *raceHarness) conflictReported(t *testing.T, consumer, object string) {
	t.Helper()
	ec := &v1alpha1.EventConsumer{}
	kubetest.Must(t, "get EventConsumer", h.raw.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: consumer}, ec))
	c := meta.FindStatusCondition(ec.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Reason != operator.ReasonConflictingObject || !strings.Contains(c.Message, object) {
		t.Errorf("Ready condition %+v, want ConflictingObject naming %s", c, object)
	}
}

func foreignConfigMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "payments"}},
		Data: map[string]string{"keep": "me"}}
}

// The ownership check and the write are two requests: an object someone
// else creates between them must not be taken over. Before, the write was a
// server-side apply with ForceOwnership, which made the EventConsumer the
// controller of the foreign ConfigMap and rewrote its data; now a missing
// child is created with a create-only POST, which the API server refuses
// with AlreadyExists, and the EventConsumer reports ConflictingObject.
func TestNoTakeOverOfAnObjectCreatedBetweenCheckAndWrite(t *testing.T) {
	h := startRace(t)
	kubetest.Must(t, "create EventConsumer", h.raw.Create(h.ctx, consumer("race-a", "https://sqs.us-east-1.amazonaws.com/123456789012/race-a")))
	foreign := foreignConfigMap("race-a-config")
	h.onFirstWrite("race-a-config", func() { kubetest.Must(t, "create the foreign ConfigMap", h.raw.Create(h.ctx, foreign)) })
	kubetest.Must(t, "reconcile", h.reconcile("race-a"))
	if foreign.ResourceVersion == "" {
		t.Fatal("the hook did not run: no write of race-a-config")
	}
	h.foreignUntouched(t, "race-a", foreign, true)
	h.conflictReported(t, "race-a", "ConfigMap default/race-a-config")
}

// A child the check saw as the EventConsumer's, replaced by someone else's
// object before the write, is not taken over either: the apply carries the
// resourceVersion the check saw, which the API server holds as a
// precondition (409 Conflict). The next reconcile reports the conflict.
func TestNoTakeOverOfAnObjectReplacedBetweenCheckAndApply(t *testing.T) {
	h := startRace(t)
	kubetest.Must(t, "create EventConsumer", h.raw.Create(h.ctx, consumer("race-b", "https://sqs.us-east-1.amazonaws.com/123456789012/race-b")))
	kubetest.Must(t, "first reconcile", h.reconcile("race-b"))
	foreign := foreignConfigMap("race-b-config")
	h.onFirstWrite("race-b-config", func() {
		kubetest.Must(t, "delete the consumer's ConfigMap", h.raw.Delete(h.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "race-b-config", Namespace: "default"}}))
		kubetest.Must(t, "create the foreign ConfigMap", h.raw.Create(h.ctx, foreign))
	})
	err := h.reconcile("race-b")
	if foreign.ResourceVersion == "" {
		t.Fatal("the hook did not run: no write of race-b-config")
	}
	if err == nil || !strings.Contains(err.Error(), "changed since the ownership check") {
		t.Errorf("reconcile after the swap: %v, want the apply refused as stale", err)
	}
	h.foreignUntouched(t, "race-b", foreign, false) // the first reconcile's ScaledObject stays: its Deployment is still the EventConsumer's
	got := &corev1.ConfigMap{}
	kubetest.Must(t, "get", h.raw.Get(h.ctx, client.ObjectKeyFromObject(foreign), got))
	kubetest.Must(t, "third reconcile", h.reconcile("race-b"))
	h.conflictReported(t, "race-b", "ConfigMap default/race-b-config")
	if got2 := (&corev1.ConfigMap{}); h.raw.Get(h.ctx, client.ObjectKeyFromObject(foreign), got2) != nil || got2.ResourceVersion != got.ResourceVersion {
		t.Errorf("the third reconcile changed the foreign ConfigMap")
	}
}

// A created child's fields belong to the operator's apply alone: a field
// the EventConsumer no longer asks for goes from the Deployment (before,
// the Deployment's create recorded every field under an Update entry that
// kept them, so a removed env var stayed), while the replica count the
// create set stays with KEDA (not reset to the API's default of 1). The
// hand-over survives another writer between the create and it (the
// Deployment controller's first status write, here an annotation).
func TestAFieldDroppedFromTheSpecLeavesTheCreatedChild(t *testing.T) {
	h := startRace(t)
	ec := consumer("drop", "https://sqs.us-east-1.amazonaws.com/123456789012/drop")
	ec.Spec.Env = append(ec.Spec.Env, corev1.EnvVar{Name: "DROP_ME", Value: "1"})
	kubetest.Must(t, "create EventConsumer", h.raw.Create(h.ctx, ec))
	interfered := false
	h.onFirstWrite("update Deployment drop", func() {
		interfered = true
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "drop", Namespace: "default"}}
		kubetest.Must(t, "another writer", h.raw.Patch(h.ctx, d, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"someone":"else"}}}`)), client.FieldOwner("someone-else")))
	})
	kubetest.Must(t, "first reconcile", h.reconcile("drop"))
	if !interfered {
		t.Fatal("the hook did not run: no update of Deployment drop after its create")
	}
	d := &appsv1.Deployment{}
	kubetest.Must(t, "get Deployment", h.raw.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: "drop"}, d))
	for _, e := range d.ManagedFields {
		if e.Manager == operator.FieldOwner && e.Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("managed fields keep an %s entry of %s after the create: %s", e.Operation, e.Manager, e.FieldsV1.GetRawBytes())
		}
	}
	env := func() (map[string]string, int32) {
		d := &appsv1.Deployment{}
		kubetest.Must(t, "get Deployment", h.raw.Get(h.ctx, client.ObjectKey{Namespace: "default", Name: "drop"}, d))
		m := map[string]string{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			m[e.Name] = e.Value
		}
		return m, *d.Spec.Replicas
	}
	if e, _ := env(); e["DROP_ME"] != "1" {
		t.Fatalf("env after create: %v, want DROP_ME", e)
	}
	kubetest.Must(t, "get EventConsumer", h.raw.Get(h.ctx, client.ObjectKeyFromObject(ec), ec))
	ec.Spec.Env = ec.Spec.Env[:len(ec.Spec.Env)-1]
	kubetest.Must(t, "drop the env var", h.raw.Update(h.ctx, ec))
	kubetest.Must(t, "second reconcile", h.reconcile("drop"))
	e, replicas := env()
	if _, ok := e["DROP_ME"]; ok || e["TENANT"] != "acme" {
		t.Errorf("env after dropping DROP_ME from the spec: %v, want TENANT only of the two", e)
	}
	if replicas != 0 {
		t.Errorf("replicas %d after the apply, want minReplicas 0 kept", replicas)
	}
}
