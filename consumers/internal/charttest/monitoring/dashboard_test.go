package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/eventplane/eventplane/consumers/internal/testenv/kubetest"
)

var (
	root      = kubetest.RepoRoot()
	chart     = filepath.Join(root, "charts", "eventplane")
	dashboard = filepath.Join(chart, "dashboards", "eventplane.json")
)

// helmTemplate renders one template of the chart with the real helm; set
// holds --set key=value pairs (json:key=value for --set-json, e.g. floats).
func helmTemplate(t *testing.T, show string, set ...string) []byte {
	t.Helper()
	args := []string{"template", "ep", chart, "--namespace", "eventplane", "--show-only", show}
	for _, s := range set {
		if kv, ok := strings.CutPrefix(s, "json:"); ok {
			args = append(args, "--set-json", kv)
		} else {
			args = append(args, "--set", s)
		}
	}
	out, err := exec.Command(kubetest.Tool(t, "helm"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's panels
}

type grafanaDashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func loadDashboard(t *testing.T, b []byte) grafanaDashboard {
	t.Helper()
	var d grafanaDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	return d
}

func flatten(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}

// The dashboard loads, every panel queries the selected Prometheus, and
// every query names only series the consumers, the operator or the listed
// external exporters really export, with labels those series have.
func TestDashboardQueriesExportedSeries(t *testing.T) {
	b, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	d := loadDashboard(t, b)
	if d.UID == "" || d.Title == "" {
		t.Fatalf("dashboard has no uid/title: %q/%q", d.UID, d.Title)
	}
	known := exported(t)
	ids := map[int]string{}
	used := map[string]bool{}
	queries := 0
	for _, p := range flatten(d.Panels) {
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panel %q reuses id %d of %q", p.Title, p.ID, prev)
		}
		ids[p.ID] = p.Title
		if p.GridPos.X+p.GridPos.W > 24 || p.GridPos.W <= 0 {
			t.Errorf("panel %q: gridPos %+v leaves Grafana's 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not query the dashboard's datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			for _, problem := range check(known, tg.Expr) {
				t.Errorf("panel %q query %s: %s\n  %s", p.Title, tg.RefID, problem, tg.Expr)
			}
			for _, n := range names(tg.Expr) {
				used[n] = true
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: query: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, q.Query)
			continue
		}
		for _, problem := range check(known, m[1]) {
			t.Errorf("variable %s: %s", v.Name, problem)
		}
		if n := names(m[1]); len(n) == 1 && !known[n[0]][m[2]] {
			t.Errorf("variable %s: series %s has no label %q", v.Name, n[0], m[2])
		}
	}
	// What the on-call operator needs per EventConsumer (issue 18).
	for _, want := range []string{
		"eventplane_operator_queue_messages",                   // queue depth, DLQ depth
		"eventplane_operator_queue_oldest_message_age_seconds", // oldest message age
		"eventplane_messages_received_total",                   // throughput
		"eventplane_handler_duration_seconds_bucket",           // latency percentiles per route
		"eventplane_handler_duration_seconds_count",            // errors per route (calls - successes)
		"eventplane_events_processed_total",                    // successes per route
		"eventplane_messages_dead_lettered_total",              // DLQ writes by reason
		"eventplane_messages_retried_total",                    // retries
		"eventplane_breaker_state",                             // breaker state
		"eventplane_messages_in_flight",                        // in-flight ...
		"eventplane_messages_in_flight_limit",                  // ... vs max
		"kube_horizontalpodautoscaler_status_desired_replicas", // replicas vs KEDA's target
		"kube_deployment_status_replicas_available",            //
		"eventplane_duplicates_skipped_total",                  // duplicates skipped
		"eventplane_aws_requests_total",                        // AWS requests per event by API
	} {
		if !used[want] {
			t.Errorf("no panel charts %s", want)
		}
	}
	t.Logf("%d panels, %d queries checked against %d known series", len(ids), queries, len(known))
}

// The chart ships the same JSON in a ConfigMap the Grafana sidecar picks up
// (label grafana_dashboard), only when asked to.
func TestChartShipsDashboardConfigMap(t *testing.T) {
	file, err := os.ReadFile(dashboard)
	if err != nil {
		t.Fatal(err)
	}
	out := helmTemplate(t, "templates/grafana-dashboard.yaml", "observability.grafanaDashboard.enabled=true",
		"observability.grafanaDashboard.annotations.grafana_folder=eventplane")
	var cm struct {
		Kind     string
		Metadata struct {
			Name, Namespace string
			Labels          map[string]string
			Annotations     map[string]string
		}
		Data map[string]string
	}
	if err := yaml.Unmarshal(out, &cm); err != nil {
		t.Fatalf("rendered ConfigMap: %v\n%s", err, out)
	}
	if cm.Kind != "ConfigMap" || cm.Metadata.Labels["grafana_dashboard"] != "1" || cm.Metadata.Namespace != "eventplane" ||
		cm.Metadata.Annotations["grafana_folder"] != "eventplane" {
		t.Errorf("ConfigMap %s/%s kind %s labels %v annotations %v: want a ConfigMap labelled grafana_dashboard=1 with the folder annotation",
			cm.Metadata.Namespace, cm.Metadata.Name, cm.Kind, cm.Metadata.Labels, cm.Metadata.Annotations)
	}
	var fromFile, fromChart any
	if err := json.Unmarshal(file, &fromFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(cm.Data["eventplane.json"]), &fromChart); err != nil {
		t.Fatalf("ConfigMap's eventplane.json: %v", err)
	}
	if !jsonEqual(fromFile, fromChart) {
		t.Error("the ConfigMap's dashboard differs from dashboards/eventplane.json")
	}
	// Off by default: helm refuses --show-only for a template that renders nothing.
	cmd := exec.Command(kubetest.Tool(t, "helm"), "template", "ep", chart, "--show-only", "templates/grafana-dashboard.yaml")
	if o, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(o), "could not find template") {
		t.Errorf("dashboard rendered without observability.grafanaDashboard.enabled: err=%v\n%s", err, o)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return slices.Equal(x, y)
}
