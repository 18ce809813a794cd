package operator

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions restrict what the operator's informers hold: only the
// namespaces given (none: every namespace), and of the kinds it creates and
// the Pods it patches only objects carrying the eventplane.io/consumer
// label that every child and consumer pod has. The operator thus neither
// lists nor keeps in memory the cluster's other Pods, ConfigMaps, Services
// and Deployments; the ownership check reads a name past the cache when it
// is not there (Reconciler.APIReader).
func CacheOptions(namespaces []string) cache.Options {
	ours := labels.NewSelector()
	req, err := labels.NewRequirement(LabelConsumer, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid label key
	}
	ours = ours.Add(*req)
	byObject := map[client.Object]cache.ByObject{}
	for _, obj := range []client.Object{&corev1.Pod{}, &corev1.ServiceAccount{}, &corev1.ConfigMap{}, &corev1.Service{},
		&appsv1.Deployment{}, &policyv1.PodDisruptionBudget{}, &kedav1alpha1.ScaledObject{}, &kedav1alpha1.TriggerAuthentication{}} {
		byObject[obj] = cache.ByObject{Label: ours}
	}
	o := cache.Options{ByObject: byObject}
	if len(namespaces) > 0 {
		o.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			o.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return o
}
