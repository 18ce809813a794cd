package emf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/eventplane/eventplane/consumers/emf"
	"github.com/eventplane/eventplane/consumers/lambdametrics"
	"github.com/eventplane/eventplane/consumers/metrics"
)

// spec compiles testdata/emf.schema.json, written from the published EMF
// specification.
func spec(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "emf.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("emf.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("emf.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type line struct {
	raw  map[string]any
	name string
	dims [][]string
	unit string
}

// parse validates every line against the schema and the specification's
// rules on target members, and returns the lines.
func parse(t *testing.T, s *jsonschema.Schema, out []byte) []line {
	t.Helper()
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
		if err != nil {
			t.Fatalf("line is not one JSON document: %v\n%s", err, sc.Bytes())
		}
		if err := s.Validate(doc); err != nil {
			t.Fatalf("line violates the EMF schema: %v\n%s", err, sc.Bytes())
		}
		var raw map[string]any
		var meta struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		_ = json.Unmarshal(sc.Bytes(), &raw)
		_ = json.Unmarshal(sc.Bytes(), &meta)
		for _, d := range meta.AWS.CloudWatchMetrics {
			if d.Namespace != "eventplane" {
				t.Errorf("namespace %q, want eventplane", d.Namespace)
			}
			for _, set := range d.Dimensions {
				for _, dim := range set {
					// Spec: a dimension must name a root member whose value is a string.
					if v, ok := raw[dim].(string); !ok || v == "" {
						t.Errorf("dimension %q has no string member: %v\n%s", dim, raw[dim], sc.Bytes())
					}
				}
			}
			for _, m := range d.Metrics {
				// Spec: a metric must name a root member that is a number or an array of at most 100 numbers.
				switch v := raw[m.Name].(type) {
				case float64:
				case []any:
					if len(v) == 0 || len(v) > emf.MaxValues {
						t.Errorf("metric %s holds %d values, want 1..100", m.Name, len(v))
					}
					for _, x := range v {
						if _, ok := x.(float64); !ok {
							t.Errorf("metric %s holds %v, not a number", m.Name, x)
						}
					}
				default:
					t.Errorf("metric %s has no numeric member: %v", m.Name, raw[m.Name])
				}
				lines = append(lines, line{raw: raw, name: m.Name, dims: d.Dimensions, unit: m.Unit})
			}
		}
	}
	return lines
}

func find(lines []line, name string, labels map[string]string) *line {
next:
	for i, l := range lines {
		if l.name != name {
			continue
		}
		for k, v := range labels {
			if l.raw[k] != v {
				continue next
			}
		}
		return &lines[i]
	}
	return nil
}

var clock = func() time.Time { return time.UnixMilli(1764633600000) }

// The EMF lines carry the registry's own names and labels: a CloudWatch
// metric per Prometheus series, with the function as a dimension.
func TestLinesMatchPrometheusNamesAndValidate(t *testing.T) {
	s := spec(t)
	m := metrics.New()
	var buf bytes.Buffer
	w := emf.New(&buf, m.Registry, emf.Options{Dimensions: map[string]string{"function": "eventplane-dev-sqs"}, Now: clock})
	m.Received.Add(3)
	m.Processed.WithLabelValues("store").Add(2)
	m.DeadLettered.WithLabelValues(metrics.ReasonPermanent).Inc()
	m.AWSRequests.WithLabelValues("DynamoDB", "PutItem").Add(4)
	m.InFlight.Set(5)
	m.HandlerDuration.WithLabelValues("store").Observe(0.002)
	m.HandlerDuration.WithLabelValues("store").Observe(0.2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := parse(t, s, buf.Bytes())
	for _, l := range lines {
		if !strings.HasPrefix(l.name, "eventplane_") {
			t.Errorf("line for %s: only the eventplane_ families are written (not Go runtime/process)", l.name)
		}
		if l.raw["_aws"].(map[string]any)["Timestamp"].(float64) != 1764633600000 {
			t.Errorf("Timestamp %v, want the clock's milliseconds", l.raw["_aws"])
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		dims   [][]string
		unit   string
		value  any
	}{
		{"eventplane_messages_received_total", nil, [][]string{{"function"}}, "Count", 3.0},
		{"eventplane_events_processed_total", map[string]string{"route": "store"}, [][]string{{"function", "route"}, {"function"}}, "Count", 2.0},
		{"eventplane_messages_dead_lettered_total", map[string]string{"reason": "permanent"}, [][]string{{"function", "reason"}, {"function"}}, "Count", 1.0},
		{"eventplane_aws_requests_total", map[string]string{"service": "DynamoDB", "api": "PutItem"}, [][]string{{"api", "function", "service"}, {"function"}}, "Count", 4.0},
		{"eventplane_messages_in_flight", nil, [][]string{{"function"}}, "None", 5.0},
		{"eventplane_handler_duration_seconds", map[string]string{"route": "store"}, [][]string{{"function", "route"}, {"function"}}, "Seconds", []any{0.0025, 0.244140625}},
	} {
		l := find(lines, c.name, c.labels)
		if l == nil {
			t.Errorf("no EMF line for %s %v", c.name, c.labels)
			continue
		}
		if l.raw["function"] != "eventplane-dev-sqs" {
			t.Errorf("%s: function = %v", c.name, l.raw["function"])
		}
		if !slices.EqualFunc(l.dims, c.dims, slices.Equal) || l.unit != c.unit {
			t.Errorf("%s: dimensions %v unit %q, want %v %q", c.name, l.dims, l.unit, c.dims, c.unit)
		}
		got, _ := json.Marshal(l.raw[c.name])
		want, _ := json.Marshal(c.value)
		if !bytes.Equal(got, want) {
			t.Errorf("%s = %s, want %s", c.name, got, want)
		}
	}
	if find(lines, "eventplane_duplicates_skipped_total", nil) != nil {
		t.Error("a counter that never grew was written")
	}
}

// Counters are written as their increase since the previous Flush, so that
// CloudWatch's Sum over a period is the Prometheus increase.
func TestCountersAreDeltasAndQuietSeriesAreSkipped(t *testing.T) {
	s := spec(t)
	m := metrics.New()
	var buf bytes.Buffer
	w := emf.New(&buf, m.Registry, emf.Options{Dimensions: map[string]string{"consumer": "orders"}, Now: clock})
	m.Received.Add(10)
	m.HandlerDuration.WithLabelValues("store").Observe(0.01)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, l := range parse(t, s, buf.Bytes()) {
		if l.name == "eventplane_messages_received_total" || l.name == "eventplane_handler_duration_seconds" {
			t.Errorf("unchanged %s written again: %v", l.name, l.raw[l.name])
		}
	}
	buf.Reset()
	m.Received.Add(2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if l := find(parse(t, s, buf.Bytes()), "eventplane_messages_received_total", nil); l == nil || l.raw[l.name] != 2.0 {
		t.Errorf("received after 2 more: %+v, want the delta 2", l)
	}
}

// A busy histogram still fits the specification's 100 values, keeping the
// shape (most values in the busy bucket, the slow one still present).
func TestHistogramFitsHundredValues(t *testing.T) {
	s := spec(t)
	m := metrics.New()
	var buf bytes.Buffer
	w := emf.New(&buf, m.Registry, emf.Options{Now: clock})
	for range 990 {
		m.HandlerDuration.WithLabelValues("store").Observe(0.002)
	}
	for range 9 {
		m.HandlerDuration.WithLabelValues("store").Observe(0.1)
	}
	m.HandlerDuration.WithLabelValues("store").Observe(1000) // beyond the last bucket
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	l := find(parse(t, s, buf.Bytes()), "eventplane_handler_duration_seconds", nil)
	if l == nil {
		t.Fatal("no histogram line")
	}
	vals := l.raw[l.name].([]any)
	count := map[float64]int{}
	for _, v := range vals {
		count[v.(float64)]++
	}
	if len(vals) > emf.MaxValues || count[0.0025] < 95 || count[0.09765625]+count[0.244140625] == 0 || count[23.84185791015625] == 0 {
		t.Errorf("%d values %v: want <=100, ~99 in the 2.5ms bucket, the 100ms and the slowest bucket present", len(vals), count)
	}
}

// The schema has teeth: documents the specification forbids fail it.
func TestSchemaRejectsInvalidDocuments(t *testing.T) {
	s := spec(t)
	long := make([]string, 31)
	for i := range long {
		long[i] = "d" + string(rune('a'+i%26)) + strings.Repeat("x", i)
	}
	dims, _ := json.Marshal([][]string{long})
	for name, doc := range map[string]string{
		"no _aws":         `{"m": 1}`,
		"no Timestamp":    `{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [[]], "Metrics": [{"Name": "m"}]}]}, "m": 1}`,
		"empty namespace": `{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "", "Dimensions": [[]], "Metrics": [{"Name": "m"}]}]}, "m": 1}`,
		"bad unit":        `{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [[]], "Metrics": [{"Name": "m", "Unit": "Requests"}]}]}, "m": 1}`,
		"31 dimensions":   `{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "n", "Dimensions": ` + string(dims) + `, "Metrics": [{"Name": "m"}]}]}, "m": 1}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Validate(v) == nil {
			t.Errorf("%s: the schema accepts %s", name, doc)
		}
	}
}

// A Lambda's invocation is written at once as EMF lines of the consumer's
// series (package lambdametrics, which links no Prometheus client), valid
// by the EMF schema; handler durations are the observed values, split into
// lines of at most 100; the next invocation writes only what it added.
func TestLambdaDoneWritesInvocation(t *testing.T) {
	s := spec(t)
	var buf bytes.Buffer
	l := lambdametrics.New(&buf, "eventplane-dev-files")
	l.Now = clock
	l.OnRequest("S3", "GetObject")
	for _, err := range []error{nil, nil, errors.New("sink down")} {
		l.Handled("files", 30*time.Millisecond, err) // the Processor's observer
	}
	l.DeadLetter(metrics.ReasonUndecodable)
	if err := l.Done(lambdametrics.Invocation{Events: 3, Failed: 1, Reason: metrics.ReasonPermanent}); err != nil {
		t.Fatal(err)
	}
	lines := parse(t, s, buf.Bytes())
	for name, want := range map[string]float64{
		"eventplane_messages_received_total": 3, "eventplane_events_processed_total": 2,
		"eventplane_messages_failed_total": 1, "eventplane_aws_requests_total": 1, "eventplane_messages_dead_lettered_total": 1,
	} {
		if l := find(lines, name, map[string]string{"function": "eventplane-dev-files"}); l == nil || l.raw[name] != want {
			t.Errorf("%s: %+v, want %v", name, l, want)
		}
	}
	if l := find(lines, "eventplane_handler_duration_seconds", map[string]string{"route": "files"}); l == nil || !slices.Equal(l.raw[l.name].([]any), []any{0.03, 0.03, 0.03}) || l.unit != "Seconds" {
		t.Errorf("handler duration of route files: %+v, want 3 values of 0.03 s", l)
	}
	if l := find(lines, "eventplane_messages_failed_total", nil); l == nil || l.raw["reason"] != "permanent" {
		t.Errorf("failed line lacks reason=permanent: %+v", l)
	}
	if l := find(lines, "eventplane_aws_requests_total", nil); l == nil || l.raw["service"] != "S3" || l.raw["api"] != "GetObject" {
		t.Errorf("aws requests line lacks service/api: %+v", l)
	}

	buf.Reset()
	for range 150 {
		l.Handled("files", time.Millisecond, nil)
	}
	if err := l.Done(lambdametrics.Invocation{Events: 1, Err: errors.New("boom")}); err != nil {
		t.Fatal(err)
	}
	lines = parse(t, s, buf.Bytes())
	var durations int
	for _, ln := range lines {
		if ln.name == "eventplane_handler_duration_seconds" {
			durations += len(ln.raw[ln.name].([]any))
		}
	}
	if durations != 150 {
		t.Errorf("second invocation: %d duration values, want the 150 observed", durations)
	}
	if l := find(lines, "eventplane_messages_received_total", nil); l == nil || l.raw[l.name] != 1.0 {
		t.Errorf("second invocation received: %+v, want 1 (counts restart each invocation)", l)
	}
	if l := find(lines, "eventplane_messages_failed_total", map[string]string{"reason": "retryable"}); l == nil || l.raw[l.name] != 1.0 {
		t.Errorf("an invocation error fails its event as retryable: %+v", l)
	}
	if l := find(lines, "eventplane_aws_requests_total", nil); l != nil {
		t.Errorf("second invocation repeats the first one's AWS request: %+v", l)
	}
}

// The Lambda's series are the consumer's: the same names, label names and
// default reason as package metrics registers, so one dashboard reads both.
func TestLambdaSeriesAreTheConsumers(t *testing.T) {
	m := metrics.New()
	m.Received.Inc()
	m.Processed.WithLabelValues("r").Inc()
	m.Failed.WithLabelValues("x").Inc()
	m.DeadLettered.WithLabelValues("x").Inc()
	m.HandlerDuration.WithLabelValues("r").Observe(1)
	m.AWSRequests.WithLabelValues("S3", "GetObject").Inc()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string][]string{}
	for _, mf := range mfs {
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels[mf.GetName()] = append(labels[mf.GetName()], l.GetName())
		}
		if labels[mf.GetName()] == nil {
			labels[mf.GetName()] = []string{}
		}
	}
	for name, want := range map[string][]string{
		lambdametrics.Received: {}, lambdametrics.Processed: {"route"}, lambdametrics.Failed: {"reason"},
		lambdametrics.DeadLettered: {"reason"}, lambdametrics.HandlerDuration: {"route"}, lambdametrics.AWSRequests: {"api", "service"},
	} {
		got, ok := labels[name]
		slices.Sort(got)
		if !ok || !slices.Equal(got, want) {
			t.Errorf("%s: package metrics has it %v with labels %v, want labels %v", name, ok, got, want)
		}
	}
	if lambdametrics.ReasonRetryable != metrics.ReasonRetryable {
		t.Errorf("default reason %q, metrics says %q", lambdametrics.ReasonRetryable, metrics.ReasonRetryable)
	}
}

// The consumer's --metrics-emf: lines at each interval, and a last flush on
// shutdown so the final increments are not lost.
func TestEveryFlushesUntilShutdown(t *testing.T) {
	m := metrics.New()
	var buf syncBuffer
	w := emf.New(&buf, m.Registry, emf.Options{Dimensions: map[string]string{"queue": "orders"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { emf.Every(ctx, 10*time.Millisecond, w, slog.Default()); close(done) }()
	m.Received.Add(1)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), `"eventplane_messages_received_total":1`) {
		if time.Now().After(deadline) {
			t.Fatalf("no EMF line within 5s:\n%s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.Received.Add(4)
	cancel()
	<-done
	if !strings.Contains(buf.String(), `"eventplane_messages_received_total":4`) {
		t.Errorf("the increments before shutdown were not flushed:\n%s", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
