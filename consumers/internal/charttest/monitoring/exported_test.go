// Package monitoring tests what the chart ships for an on-call operator: the
// Grafana dashboard (dashboards/eventplane.json) and the PrometheusRule. The
// dashboard's and the rules' PromQL may name only series the code exports
// (gathered from the real registries) or the external series listed below;
// the rules' behaviour is tested with promtool on synthetic series.
package monitoring

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metricsql"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/operator"
)

// external are the series of other exporters that panels and rules may use,
// with the labels they carry.
var external = map[string][]string{
	// kube-state-metrics (kube_deployment_* and kube_horizontalpodautoscaler_*
	// families): the consumer Deployment is named after its EventConsumer and
	// KEDA's HPA is keda-hpa-<ScaledObject> (= the EventConsumer's name).
	"kube_deployment_status_replicas_available":            {"namespace", "deployment"},
	"kube_horizontalpodautoscaler_status_desired_replicas": {"namespace", "horizontalpodautoscaler"},
	"kube_horizontalpodautoscaler_status_current_replicas": {"namespace", "horizontalpodautoscaler"},
	"kube_horizontalpodautoscaler_spec_max_replicas":       {"namespace", "horizontalpodautoscaler"},
	// KEDA operator (keda.sh "Integrate with Prometheus"): the value its
	// scaler reads (here the queue length), per ScaledObject.
	"keda_scaler_metrics_value": {"namespace", "scaledObject", "scaler", "metric", "triggerIndex", "type"},
}

// targetLabels are the labels Prometheus (prometheus-operator's
// ServiceMonitor) adds to every scraped series.
var targetLabels = []string{"job", "instance", "namespace", "service", "pod", "container", "endpoint"}

// series maps each series name a query may use to the label names it has.
type series map[string]map[string]bool

// exported gathers the consumers' registry (metrics.New) and the operator's
// collectors after touching every vector, so that each family is present.
func exported(t *testing.T) series {
	t.Helper()
	m := metrics.New()
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if c, ok := v.Field(i).Interface().(prometheus.Collector); ok {
			touch(t, v.Type().Field(i).Name, c)
		}
	}
	for _, c := range operator.Collectors() {
		touch(t, fmt.Sprintf("%T", c), c)
	}
	out := series{}
	for _, g := range []prometheus.Gatherer{m.Registry, crmetrics.Registry} {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatalf("gather: %v", err)
		}
		for _, mf := range mfs {
			labels := map[string]bool{}
			for _, mt := range mf.GetMetric() {
				for _, l := range mt.GetLabel() {
					labels[l.GetName()] = true
				}
			}
			for _, l := range targetLabels {
				labels[l] = true
			}
			name := mf.GetName()
			out[name] = labels
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				out[name+"_bucket"] = with(labels, "le")
				out[name+"_count"], out[name+"_sum"] = labels, labels
			case dto.MetricType_SUMMARY:
				out[name] = with(labels, "quantile")
				out[name+"_count"], out[name+"_sum"] = labels, labels
			}
		}
	}
	for name, labels := range external {
		out[name] = with(nil, append(labels, targetLabels...)...)
	}
	return out
}

func with(m map[string]bool, extra ...string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	for _, k := range extra {
		out[k] = true
	}
	return out
}

// touch creates one child of a vector (labels all empty) so the family is
// gathered; plain metrics are gathered as they are.
func touch(t *testing.T, name string, c prometheus.Collector) {
	t.Helper()
	get := reflect.ValueOf(c).MethodByName("GetMetricWithLabelValues")
	if !get.IsValid() {
		return
	}
	for n := range 8 {
		out := get.CallSlice([]reflect.Value{reflect.ValueOf(make([]string, n))})
		if out[1].IsNil() {
			return
		}
	}
	t.Fatalf("%s: no label count between 0 and 7 fits", name)
}

// grafanaVars replaces Grafana's template variables with values PromQL accepts.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h",
	"$namespace", ".*", "$consumer", ".*", "${datasource}", "")

// check parses a PromQL expression and reports each series name that is not
// in known and each label matcher on a label the series does not have.
func check(known series, expr string) []string {
	e, err := metricsql.Parse(grafanaVars.Replace(expr))
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		me, ok := x.(*metricsql.MetricExpr)
		if !ok {
			return
		}
		for _, lfs := range me.LabelFilterss {
			name := ""
			for _, lf := range lfs {
				if lf.Label == "__name__" {
					name = lf.Value
				}
			}
			labels, ok := known[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("series %q is not exported by the code (nor listed as external)", name))
				continue
			}
			for _, lf := range lfs {
				if lf.Label != "__name__" && !labels[lf.Label] {
					problems = append(problems, fmt.Sprintf("series %q has no label %q", name, lf.Label))
				}
			}
		}
	})
	return problems
}

// names lists the series names an expression selects.
func names(expr string) []string {
	e, err := metricsql.Parse(grafanaVars.Replace(expr))
	if err != nil {
		return nil
	}
	var out []string
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		if me, ok := x.(*metricsql.MetricExpr); ok {
			for _, lfs := range me.LabelFilterss {
				for _, lf := range lfs {
					if lf.Label == "__name__" {
						out = append(out, lf.Value)
					}
				}
			}
		}
	})
	sort.Strings(out)
	return out
}

// labelValues matches Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func TestCheckCatchesMisspelledSeriesAndLabels(t *testing.T) {
	known := exported(t)
	if p := check(known, `sum(rate(eventplane_messages_recieved_total[5m]))`); len(p) != 1 || !strings.Contains(p[0], "eventplane_messages_recieved_total") {
		t.Errorf("misspelled series: problems = %q, want one naming it", p)
	}
	if p := check(known, `eventplane_events_processed_total{rout="store"}`); len(p) != 1 || !strings.Contains(p[0], `label "rout"`) {
		t.Errorf("misspelled label: problems = %q, want one naming it", p)
	}
	if p := check(known, `sum by (route) (rate(eventplane_events_processed_total{route="store"}[5m]))`); len(p) != 0 {
		t.Errorf("valid query: problems = %q, want none", p)
	}
	for _, want := range []string{"eventplane_handler_duration_seconds_bucket", "eventplane_operator_queue_messages", "eventplane_messages_in_flight_limit"} {
		if _, ok := known[want]; !ok {
			t.Errorf("exported series lack %s", want)
		}
	}
}
