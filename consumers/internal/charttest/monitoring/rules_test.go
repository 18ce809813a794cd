package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
)

type promRule struct {
	Alert string `json:"alert"`
	Expr  string `json:"expr"`
}

type ruleGroups struct {
	Groups []struct {
		Name  string     `json:"name"`
		Rules []promRule `json:"rules"`
	} `json:"groups"`
}

// renderRules renders the chart's PrometheusRule and returns its spec (a
// Prometheus rule file) with the given values.
func renderRules(t *testing.T, set ...string) ([]byte, ruleGroups) {
	t.Helper()
	out := helmTemplate(t, "templates/prometheusrule.yaml", append([]string{"observability.prometheusRule.enabled=true"}, set...)...)
	var pr struct {
		Kind string          `json:"kind"`
		Spec json.RawMessage `json:"spec"`
	}
	if err := yaml.Unmarshal(out, &pr); err != nil {
		t.Fatalf("rendered PrometheusRule: %v\n%s", err, out)
	}
	if pr.Kind != "PrometheusRule" {
		t.Fatalf("rendered kind %q, want PrometheusRule", pr.Kind)
	}
	var g ruleGroups
	if err := yaml.Unmarshal(pr.Spec, &g); err != nil {
		t.Fatal(err)
	}
	return pr.Spec, g
}

// Each alert of the rendered PrometheusRule fires on the synthetic series of
// testdata/rules_test.yaml exactly when, and with the labels and text, an
// operator is told to expect (promtool test rules, the Prometheus rule
// engine itself); each expression names only exported series.
func TestPrometheusRulesWithPromtool(t *testing.T) {
	spec, groups := renderRules(t)
	known := exported(t)
	tests, err := os.ReadFile(filepath.Join("testdata", "rules_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts++
			for _, problem := range check(known, r.Expr) {
				t.Errorf("rule %s: %s", r.Alert, problem)
			}
			if !strings.Contains(string(tests), "alertname: "+r.Alert+"\n") {
				t.Errorf("rule %s has no promtool test in testdata/rules_test.yaml", r.Alert)
			}
		}
	}
	if alerts < 5 {
		t.Fatalf("rendered %d alerts, want at least the 5 of issue 18", alerts)
	}
	dir := t.TempDir()
	rules, err := yaml.JSONToYAML(spec)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yaml": rules, "rules_test.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	promtool := kubetest.Tool(t, "promtool")
	if out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "rules.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	cmd := exec.Command(promtool, "test", "rules", "rules_test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// Thresholds are values: a changed threshold changes the rendered rule.
func TestPrometheusRuleThresholdsAreValues(t *testing.T) {
	_, g := renderRules(t, "observability.prometheusRule.oldestMessageAgeSeconds=120", "observability.prometheusRule.breakerOpenMinutes=3",
		"json:observability.prometheusRule.errorRatio=0.2")
	want := map[string]string{
		"EventplaneQueueOldestMessageTooOld": "> 120",
		"EventplaneCircuitBreakerOpen":       "[3m]",
		"EventplaneRouteErrorRatioHigh":      "> 0.2",
	}
	for _, grp := range g.Groups {
		for _, r := range grp.Rules {
			if w, ok := want[r.Alert]; ok {
				if !strings.Contains(r.Expr, w) {
					t.Errorf("%s: expr %q lacks %q", r.Alert, r.Expr, w)
				}
				delete(want, r.Alert)
			}
		}
	}
	for a := range want {
		t.Errorf("alert %s not rendered", a)
	}
}
