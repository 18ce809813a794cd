// Package metrics defines the Prometheus metrics of a consumer. The engine and
// the AWS adapters record into them; the admin server exposes the registry.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors of one consumer process.
type Metrics struct {
	Registry *prometheus.Registry

	Received        prometheus.Counter
	Processed       *prometheus.CounterVec // route
	Failed          *prometheus.CounterVec // reason
	Retried         prometheus.Counter
	DeadLettered    *prometheus.CounterVec // reason
	Duplicates      prometheus.Counter
	Control         *prometheus.CounterVec // kind
	Unrouted        prometheus.Counter
	Released        prometheus.Counter
	Extended        prometheus.Counter
	InFlight        prometheus.Gauge
	InFlightLimit   prometheus.Gauge         // the maxInFlight setting, for in-flight vs max
	HandlerDuration *prometheus.HistogramVec // route
	ReceiveBatch    prometheus.Histogram
	DeleteBatch     prometheus.Histogram
	BreakerState    *prometheus.GaugeVec   // breaker
	AWSRequests     *prometheus.CounterVec // service, api
}

// Failure reasons used on Failed and DeadLettered.
const (
	ReasonRetryable   = "retryable"
	ReasonPermanent   = "permanent"
	ReasonUndecodable = "undecodable"
	ReasonUnrouted    = "unrouted"
	ReasonTimeout     = "timeout"
	ReasonBreakerOpen = "breaker_open"
	// ReasonBusy: the event is held by another worker; retried when its claim ends.
	ReasonBusy = "busy"
)

// New creates the collectors and registers them, with the Go and process
// collectors, on a new registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{r}
	batch := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	return &Metrics{
		Registry:      r,
		Received:      f.counter("messages_received_total", "Messages received from the source."),
		Processed:     f.counterVec("events_processed_total", "Events handled successfully, by route.", "route"),
		Failed:        f.counterVec("messages_failed_total", "Message processing failures, by reason.", "reason"),
		Retried:       f.counter("messages_retried_total", "Messages returned to the queue with a backoff delay."),
		DeadLettered:  f.counterVec("messages_dead_lettered_total", "Messages sent to the dead-letter queue by the consumer, by reason.", "reason"),
		Duplicates:    f.counter("duplicates_skipped_total", "Events skipped because they were already processed."),
		Control:       f.counterVec("control_messages_total", "Platform control messages acknowledged (SNS confirmations, S3 test events), by kind.", "kind"),
		Unrouted:      f.counter("events_unrouted_total", "Events that matched no route."),
		Released:      f.counter("messages_released_total", "Messages made visible again without processing (shutdown, open breaker, FIFO hold-back)."),
		Extended:      f.counter("visibility_extensions_total", "Visibility timeout extensions (heartbeats) for long-running handlers."),
		InFlight:      f.gauge("messages_in_flight", "Messages received and not yet settled."),
		InFlightLimit: f.gauge("messages_in_flight_limit", "Messages a replica works on at once, at most (consumer.maxInFlight)."),
		HandlerDuration: f.histogramVec("handler_duration_seconds", "Time spent in a route's handler chain.",
			prometheus.ExponentialBuckets(0.001, 2.5, 12), "route"),
		ReceiveBatch: f.histogram("receive_batch_size", "Messages per receive call.", batch),
		DeleteBatch:  f.histogram("delete_batch_size", "Receipts per delete batch.", batch),
		BreakerState: f.gaugeVec("breaker_state", "Circuit breaker state per handler: 0 closed, 1 half-open, 2 open.", "breaker"),
		AWSRequests:  f.counterVec("aws_requests_total", "AWS API requests sent (including retries), by service and API.", "service", "api"),
	}
}

type factory struct{ r *prometheus.Registry }

const ns = "eventplane"

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets})
	f.r.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}
