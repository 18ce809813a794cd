// Package lambdametrics counts what a Lambda function's invocation did and
// writes it as CloudWatch Embedded Metric Format lines at the end of the
// invocation: Lambda sends stdout to CloudWatch Logs, which extracts the
// metrics, with the dimension function (plus each series' labels). The
// series carry the consumer's Prometheus names and labels (package metrics;
// a test holds them equal), so a dashboard reads a function and a consumer
// alike, but no metrics client is linked: a function only ever writes what
// one invocation added, so plain counts suffice, and the zip and the cold
// start carry no registry.
package lambdametrics

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/eventplane/eventplane/consumers/emf/document"
)

// The series written, as package metrics names them.
const (
	Received        = "eventplane_messages_received_total"
	Processed       = "eventplane_events_processed_total"       // route
	Failed          = "eventplane_messages_failed_total"        // reason
	DeadLettered    = "eventplane_messages_dead_lettered_total" // reason
	HandlerDuration = "eventplane_handler_duration_seconds"     // route
	AWSRequests     = "eventplane_aws_requests_total"           // service, api
)

// ReasonRetryable is the reason of failures an Invocation does not name
// (metrics.ReasonRetryable).
const ReasonRetryable = "retryable"

// Invocation is what one Lambda invocation did.
type Invocation struct {
	// Events received and, of them, Failed with Reason (metrics.Reason*;
	// default retryable). Err, when Failed is 0, fails all Events.
	Events, Failed int
	Reason         string
	Err            error
}

// Lambda holds the counts of the invocation under way. It is the
// delivery.Observer of the function's Processor (handler time and successes
// per route) and the awsconf OnRequest hook (AWS requests by API); it is
// safe for concurrent use.
type Lambda struct {
	out   io.Writer
	fixed map[string]string
	// Now is the clock of the lines' Timestamp (default time.Now).
	Now func() time.Time

	mu        sync.Mutex
	counts    map[series]float64
	durations map[string][]float64 // seconds, by route
}

// series is one counter's name and labels.
type series struct {
	name        string
	label, with string // first label's name and value
	label2, v2  string // second label (aws requests' api)
}

// New writes to out (os.Stdout in a function) with the dimension function =
// name (AWS_LAMBDA_FUNCTION_NAME).
func New(out io.Writer, name string) *Lambda {
	return &Lambda{out: out, fixed: map[string]string{"function": name}, Now: time.Now,
		counts: map[series]float64{}, durations: map[string][]float64{}}
}

func (l *Lambda) add(s series, n float64) {
	l.mu.Lock()
	l.counts[s] += n
	l.mu.Unlock()
}

// OnRequest counts an AWS API request (awsconf.Options.OnRequest).
func (l *Lambda) OnRequest(service, api string) {
	l.add(series{name: AWSRequests, label: "service", with: service, label2: "api", v2: api}, 1)
}

// Handled records one route's handler run (delivery.Observer).
func (l *Lambda) Handled(route string, took time.Duration, err error) {
	l.mu.Lock()
	l.durations[route] = append(l.durations[route], took.Seconds())
	l.mu.Unlock()
	if err == nil {
		l.add(series{name: Processed, label: "route", with: route}, 1)
	}
}

// DeadLetter counts a message the function sent to the dead-letter queue
// itself, by reason.
func (l *Lambda) DeadLetter(reason string) {
	l.add(series{name: DeadLettered, label: "reason", with: reason}, 1)
}

// Done records the invocation, writes one EMF line per series it changed
// and starts the next invocation's counts from zero. Handler durations are
// written as the observed values themselves (CloudWatch computes exact
// percentiles from them), at most document.MaxValues per line.
func (l *Lambda) Done(inv Invocation) error {
	if inv.Err != nil && inv.Failed == 0 {
		inv.Failed = max(inv.Events, 1)
	}
	if inv.Events > 0 {
		l.add(series{name: Received}, float64(inv.Events))
	}
	if inv.Failed > 0 {
		reason := inv.Reason
		if reason == "" {
			reason = ReasonRetryable
		}
		l.add(series{name: Failed, label: "reason", with: reason}, float64(inv.Failed))
	}
	l.mu.Lock()
	counts, durations := l.counts, l.durations
	l.counts, l.durations = map[series]float64{}, map[string][]float64{}
	l.mu.Unlock()

	ts := l.Now().UnixMilli()
	var lines [][]byte
	for _, s := range slices.SortedFunc(maps.Keys(counts), func(a, b series) int { return compare(a, b) }) {
		var labels []document.Label
		if s.label != "" {
			labels = append(labels, document.Label{Name: s.label, Value: s.with})
		}
		if s.label2 != "" {
			labels = append(labels, document.Label{Name: s.label2, Value: s.v2})
		}
		b, err := document.Encode(document.Metric{Namespace: "eventplane", Fixed: l.fixed, Name: s.name, Unit: "Count",
			Value: counts[s], Labels: labels, Timestamp: ts})
		if err != nil {
			return err
		}
		lines = append(lines, b)
	}
	for _, route := range slices.Sorted(maps.Keys(durations)) {
		for vs := range slices.Chunk(durations[route], document.MaxValues) {
			b, err := document.Encode(document.Metric{Namespace: "eventplane", Fixed: l.fixed, Name: HandlerDuration, Unit: "Seconds",
				Value: vs, Labels: []document.Label{{Name: "route", Value: route}}, Timestamp: ts})
			if err != nil {
				return err
			}
			lines = append(lines, b)
		}
	}
	for _, b := range lines {
		if _, err := l.out.Write(b); err != nil {
			return fmt.Errorf("emf: write: %w", err)
		}
	}
	return nil
}

func compare(a, b series) int {
	for _, c := range [][2]string{{a.name, b.name}, {a.with, b.with}, {a.v2, b.v2}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}
