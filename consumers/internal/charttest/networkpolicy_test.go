package charttest

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// policies renders the chart and returns its NetworkPolicies.
func policies(t *testing.T, set ...string) []networkingv1.NetworkPolicy {
	t.Helper()
	args := []string{"template", "eventplane", chart, "-n", "eventplane", "-f", values(t, fixture)}
	for _, s := range set {
		args = append(args, "--set-json", s)
	}
	out, err := helm(t, nil, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", set, err, out)
	}
	var nps []networkingv1.NetworkPolicy
	for _, doc := range strings.Split(out, "\n---\n") {
		if !strings.Contains(doc, "kind: NetworkPolicy") {
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := yaml.Unmarshal([]byte(doc), &np); err != nil {
			t.Fatalf("NetworkPolicy: %v\n%s", err, doc)
		}
		nps = append(nps, np)
	}
	return nps
}

// NetworkPolicies are on by default, and each ingress rule names its
// peers: before, they were off by default, and with an empty metricsFrom
// the rule for the metrics and admin ports had no "from" and so admitted
// every pod of the cluster.
func TestNetworkPoliciesAdmitOnlyNamedPeers(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
	}{
		{"defaults", nil},
		{"empty metricsFrom", []string{`networkPolicy.metricsFrom=[]`}},
		{"a monitoring namespace", []string{`networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]`}},
		{"two watched namespaces", []string{`operator.watchNamespaces=["team-a","team-b"]`}},
	} {
		nps := policies(t, tc.set...)
		covered := map[string]bool{}
		for _, np := range nps {
			covered[np.Namespace+"/"+np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"]] = true
			for i, rule := range np.Spec.Ingress {
				if len(rule.From) == 0 {
					t.Errorf("%s: %s/%s ingress[%d] has no from: it admits every pod", tc.name, np.Namespace, np.Name, i)
				}
				for _, peer := range rule.From {
					if peer.PodSelector == nil && peer.NamespaceSelector == nil && peer.IPBlock == nil {
						t.Errorf("%s: %s/%s ingress[%d] has an empty peer", tc.name, np.Namespace, np.Name, i)
					}
				}
				for _, p := range rule.Ports {
					if p.Port == nil || (p.Port.IntValue() != 8443 && p.Port.IntValue() != 9090) {
						t.Errorf("%s: %s/%s ingress[%d] opens port %v", tc.name, np.Namespace, np.Name, i, p.Port)
					}
				}
			}
		}
		want := []string{"eventplane/eventplane-operator", "eventplane/eventplane-consumer"}
		if len(tc.set) > 0 && strings.Contains(tc.set[0], "team-a") {
			want = []string{"eventplane/eventplane-operator", "team-a/eventplane-consumer", "team-b/eventplane-consumer"}
		}
		for _, w := range want {
			if !covered[w] {
				t.Errorf("%s: no NetworkPolicy selects %s (have %v)", tc.name, w, covered)
			}
		}
	}
}
