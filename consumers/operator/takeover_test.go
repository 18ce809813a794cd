package operator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
)

// An EventConsumer named like an object someone else runs must not take it
// over: before, the server-side apply with ForceOwnership rewrote the
// object and set the EventConsumer as its controller, so deleting the
// EventConsumer garbage-collected it. Now the foreign object stays as it
// was, no child at all is applied (a ScaledObject would otherwise scale the
// foreign Deployment), the EventConsumer says Ready=False ConflictingObject
// naming the object, and an Event tells the same.
func TestEventConsumerDoesNotTakeOverForeignObjects(t *testing.T) {
	h := start(t)
	url, _ := h.queue("takeover")
	labels := map[string]string{"app": "payments"}
	foreign := []struct {
		consumer, kind string
		obj            client.Object
	}{
		{"svc-victim", "Service", &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "svc-victim", Namespace: "default", Labels: labels},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}},
		{"cm-victim", "ConfigMap", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-victim-config", Namespace: "default", Labels: labels},
			Data: map[string]string{"payments.yaml": "keep: me"}}},
		{"dep-victim", "Deployment", &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "dep-victim", Namespace: "default", Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "payments", Image: "payments:1"}}}}}}},
		{"sa-victim", "ServiceAccount", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sa-victim", Namespace: "default", Labels: labels,
			Annotations: map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/payments"}}}},
	}
	before := map[string]string{}
	for _, f := range foreign {
		kubetest.Must(t, "create foreign "+f.kind, h.c.Create(h.ctx, f.obj))
		before[f.kind] = f.obj.GetResourceVersion()
	}
	for _, f := range foreign {
		kubetest.Must(t, "create EventConsumer "+f.consumer, h.c.Create(h.ctx, consumer(f.consumer, url)))
	}
	for _, f := range foreign {
		name := fmt.Sprintf("%s default/%s", f.kind, f.obj.GetName())
		wait(t, h, f.consumer, &v1alpha1.EventConsumer{}, f.consumer+" Ready=False ConflictingObject", func(ec *v1alpha1.EventConsumer) string {
			c := meta.FindStatusCondition(ec.Status.Conditions, v1alpha1.ConditionReady)
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "ConflictingObject" || !strings.Contains(c.Message, name) {
				return fmt.Sprintf("Ready condition %+v, want False ConflictingObject naming %s", c, name)
			}
			return ""
		})
		kubetest.Eventually(t, 20*time.Second, "ConflictingObject Event for "+f.consumer, func() (bool, string) {
			var evs eventsv1.EventList
			if err := h.c.List(h.ctx, &evs, client.InNamespace("default")); err != nil {
				return false, err.Error()
			}
			for _, e := range evs.Items {
				if e.Reason == "ConflictingObject" && e.Regarding.Name == f.consumer && e.Type == corev1.EventTypeWarning && strings.Contains(e.Note, name) {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d events, none ConflictingObject for %s", len(evs.Items), f.consumer)
		})
	}
	// Give the operator a few more reconciles (1s poll) to misbehave.
	time.Sleep(3 * time.Second)
	check := func(when string) {
		t.Helper()
		for _, f := range foreign {
			got := f.obj.DeepCopyObject().(client.Object)
			if err := h.get(f.obj.GetName(), got); err != nil {
				t.Fatalf("%s: foreign %s %s: %v", when, f.kind, f.obj.GetName(), err)
			}
			if got.GetResourceVersion() != before[f.kind] || len(got.GetOwnerReferences()) != 0 || got.GetLabels()["eventplane.io/consumer"] != "" {
				t.Errorf("%s: foreign %s was modified: resourceVersion %s -> %s, owners %v, labels %v", when, f.kind,
					before[f.kind], got.GetResourceVersion(), got.GetOwnerReferences(), got.GetLabels())
			}
			// Nothing else was applied for the conflicting consumer: no
			// ScaledObject aims KEDA at the foreign Deployment.
			if err := h.get(f.consumer, &kedav1alpha1.ScaledObject{}); !apierrors.IsNotFound(err) {
				t.Errorf("%s: ScaledObject %s exists (%v) although its consumer conflicts", when, f.consumer, err)
			}
		}
	}
	check("after reconciles")

	// Deleting the EventConsumers (with the garbage collector running)
	// leaves the foreign objects alone.
	for _, f := range foreign {
		kubetest.Must(t, "delete "+f.consumer, h.c.Delete(h.ctx, &v1alpha1.EventConsumer{ObjectMeta: metav1.ObjectMeta{Name: f.consumer, Namespace: "default"}},
			client.PropagationPolicy(metav1.DeletePropagationBackground)))
	}
	kubetest.Eventually(t, 20*time.Second, "EventConsumers gone", func() (bool, string) {
		var l v1alpha1.EventConsumerList
		if err := h.c.List(h.ctx, &l, client.InNamespace("default")); err != nil {
			return false, err.Error()
		}
		return len(l.Items) == 0, fmt.Sprintf("%d left", len(l.Items))
	})
	time.Sleep(3 * time.Second) // the garbage collector acts within about a second
	check("after the EventConsumers were deleted")
}

// The operator's informers hold only its own objects: a Pod or ConfigMap
// without the eventplane.io/consumer label is never listed into its memory
// (before, it cached every Pod of the cluster), while the ownership check
// still sees it by reading past the cache.
func TestOperatorCacheHoldsOnlyItsOwnObjects(t *testing.T) {
	h := start(t)
	pod := func(name string, labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x:1"}}}}
	}
	kubetest.Must(t, "foreign pod", h.c.Create(h.ctx, pod("payments-1", map[string]string{"app": "payments"})))
	kubetest.Must(t, "consumer pod", h.c.Create(h.ctx, pod("orders-1", map[string]string{"eventplane.io/consumer": "orders"})))
	kubetest.Must(t, "foreign ConfigMap", h.c.Create(h.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "payments", Namespace: "default"}}))
	kubetest.Eventually(t, 20*time.Second, "the operator's cache lists only labelled pods", func() (bool, string) {
		var pods corev1.PodList
		if err := h.cached.List(h.ctx, &pods); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		return len(names) == 1 && names[0] == "orders-1", fmt.Sprintf("cached pods %v", names)
	})
	var cms corev1.ConfigMapList
	kubetest.Must(t, "list ConfigMaps", h.cached.List(h.ctx, &cms))
	for _, cm := range cms.Items {
		if cm.Labels["eventplane.io/consumer"] == "" {
			t.Errorf("the operator's cache holds ConfigMap %s/%s, which is not one of its children", cm.Namespace, cm.Name)
		}
	}
}
