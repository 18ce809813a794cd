package emf

import (
	"io"
	"time"

	"github.com/eventplane/eventplane/consumers/metrics"
)

// Invocation is what one Lambda invocation did.
type Invocation struct {
	// Events received and, of them, Failed with Reason (metrics.Reason*;
	// default retryable). Err, when Failed is 0, fails all Events.
	Events, Failed int
	Reason         string
	Err            error
}

// Lambda holds a Lambda function's consumer metrics (metrics.New, the same
// series as a consumer's /metrics) and writes them as EMF lines at the end of
// each invocation: Lambda sends stdout to CloudWatch Logs, which extracts
// the metrics, with the dimension function (plus each series' labels).
// It is the delivery.Observer of the function's Processor (handler time and
// successes per route) and the awsconf OnRequest hook (AWS requests by API).
type Lambda struct {
	Metrics *metrics.Metrics
	w       *Writer
}

// NewLambda writes to out (os.Stdout in a function) with the dimension
// function = name (AWS_LAMBDA_FUNCTION_NAME).
func NewLambda(out io.Writer, name string) *Lambda {
	m := metrics.New()
	return &Lambda{Metrics: m, w: New(out, m.Registry, Options{Dimensions: map[string]string{"function": name}})}
}

// OnRequest counts an AWS API request (awsconf.Options.OnRequest).
func (l *Lambda) OnRequest(service, api string) {
	l.Metrics.AWSRequests.WithLabelValues(service, api).Inc()
}

// Handled records one route's handler run, as the engine's observer does
// (delivery.Observer).
func (l *Lambda) Handled(route string, took time.Duration, err error) {
	l.Metrics.HandlerDuration.WithLabelValues(route).Observe(took.Seconds())
	if err == nil {
		l.Metrics.Processed.WithLabelValues(route).Inc()
	}
}

// Done records an invocation and writes the EMF lines of what changed.
func (l *Lambda) Done(inv Invocation) error {
	m := l.Metrics
	if inv.Err != nil && inv.Failed == 0 {
		inv.Failed = max(inv.Events, 1)
	}
	m.Received.Add(float64(inv.Events))
	if inv.Failed > 0 {
		reason := inv.Reason
		if reason == "" {
			reason = metrics.ReasonRetryable
		}
		m.Failed.WithLabelValues(reason).Add(float64(inv.Failed))
	}
	return l.w.Flush()
}
