package charttest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/eventplane/eventplane/api/v1alpha1"
	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
	"github.com/eventplane/eventplane/consumers/operator"
)

// The default install is namespaced: the operator's ServiceAccount may
// manage consumers in the release namespace and nowhere else. Before, one
// ClusterRoleBinding let it read and write ConfigMaps, Services,
// Deployments and Pods of every namespace, even with --watch-namespace.
// Checked with real requests made as that ServiceAccount (impersonation)
// against a real API server after a real helm install.
func TestNamespacedInstallConfinesTheOperator(t *testing.T) {
	c := kubetest.Start(t)
	for _, ns := range []string{"other"} {
		if out, err := c.Kubectl(t, nil, "create", "namespace", ns); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	if out, err := helm(t, c, "install", "eventplane", chart, "-n", "eventplane", "--create-namespace", "--wait=false",
		"-f", filepath.Join(chart, "values-dev.yaml"), "-f", values(t, fixture)); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	scheme, err := operator.NewScheme()
	kubetest.Must(t, "scheme", err)
	cfg, err := clientcmd.BuildConfigFromFlags("", impersonating(t, c.Kubeconfig, "system:serviceaccount:eventplane:eventplane-operator"))
	kubetest.Must(t, "kubeconfig", err)
	as, err := client.New(cfg, client.Options{Scheme: scheme})
	kubetest.Must(t, "client", err)
	ctx := context.Background()

	deployment := func(ns string) *appsv1.Deployment {
		l := map[string]string{"app": "x"}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: l}, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x:1"}}}}}}
	}
	forbidden := []struct {
		what string
		do   func() error
	}{
		{"list ConfigMaps in other", func() error { return as.List(ctx, &corev1.ConfigMapList{}, client.InNamespace("other")) }},
		{"list Pods in other", func() error { return as.List(ctx, &corev1.PodList{}, client.InNamespace("other")) }},
		{"list EventConsumers in other", func() error { return as.List(ctx, &v1alpha1.EventConsumerList{}, client.InNamespace("other")) }},
		{"create a Deployment in other", func() error { return as.Create(ctx, deployment("other")) }},
		{"create a Service in other", func() error {
			return as.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "other"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}})
		}},
		{"delete a ServiceAccount in other", func() error {
			return as.Delete(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "other"}})
		}},
		{"list Deployments of every namespace", func() error { return as.List(ctx, &appsv1.DeploymentList{}) }},
		{"read Secrets in its own namespace", func() error { return as.List(ctx, &corev1.SecretList{}, client.InNamespace("eventplane")) }},
	}
	for _, f := range forbidden {
		if err := f.do(); !apierrors.IsForbidden(err) {
			t.Errorf("as the operator: %s: %v, want Forbidden", f.what, err)
		}
	}
	// What it is for still works in its namespace.
	if err := as.Create(ctx, deployment("eventplane")); err != nil {
		t.Errorf("as the operator: create a Deployment in eventplane: %v", err)
	}
	if err := as.List(ctx, &corev1.PodList{}, client.InNamespace("eventplane")); err != nil {
		t.Errorf("as the operator: list Pods in eventplane: %v", err)
	}
}

// Cluster-wide RBAC is a choice spelled out in values, and then the only
// mode with a ClusterRole for the workload rules.
func TestClusterWideRBACIsExplicit(t *testing.T) {
	gen := values(t, fixture)
	kinds := func(set ...string) string {
		args := []string{"template", "eventplane", chart, "-n", "eventplane", "-f", gen, "--show-only", "templates/operator-rbac.yaml"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		out, err := helm(t, nil, args...)
		if err != nil {
			t.Fatalf("helm template %v: %v\n%s", set, err, out)
		}
		return out
	}
	def := kinds()
	if strings.Contains(def, "name: eventplane-operator\n  labels") && strings.Contains(def, "kind: ClusterRoleBinding\nmetadata:\n  name: eventplane-operator\n") {
		t.Errorf("default values bind the workload rules cluster-wide:\n%s", def)
	}
	if !strings.Contains(def, "kind: RoleBinding\nmetadata:\n  name: eventplane-operator\n  namespace: eventplane") {
		t.Errorf("default values: no RoleBinding in the release namespace:\n%s", def)
	}
	two := kinds("operator.watchNamespaces={team-a,team-b}")
	for _, ns := range []string{"team-a", "team-b"} {
		if !strings.Contains(two, "kind: Role\nmetadata:\n  name: eventplane-operator\n  namespace: "+ns) {
			t.Errorf("watchNamespaces team-a,team-b: no Role in %s", ns)
		}
	}
	cluster := kinds("operator.rbac.scope=cluster")
	if !strings.Contains(cluster, "kind: ClusterRoleBinding\nmetadata:\n  name: eventplane-operator\n") {
		t.Errorf("scope cluster: no ClusterRoleBinding of the workload rules:\n%s", cluster)
	}
}
