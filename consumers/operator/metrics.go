package operator

import (
	"crypto/tls"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/eventplane/eventplane/consumers/sqs"
)

// Queue figures per EventConsumer, on the operator's /metrics (next to
// controller-runtime's own), for dashboards and alerts that should not
// need CloudWatch.
var (
	queueMessages = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "eventplane_operator_queue_messages",
		Help: "Messages of an EventConsumer's queue at the last poll, by state (visible, in_flight, delayed, dead_letter).",
	}, []string{"namespace", "consumer", "state"})
	oldestAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "eventplane_operator_queue_oldest_message_age_seconds",
		Help: "Age of the oldest message of an EventConsumer's queue at the last poll (only with --peek-oldest).",
	}, []string{"namespace", "consumer"})
	queuePollErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventplane_operator_queue_poll_errors_total",
		Help: "Failed reads of an EventConsumer's queue attributes.",
	}, []string{"namespace", "consumer"})
	redrives = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventplane_operator_redriven_messages_total",
		Help: "Messages moved from an EventConsumer's dead-letter queue back to its queue.",
	}, []string{"namespace", "consumer"})
)

func init() {
	crmetrics.Registry.MustRegister(queueMessages, oldestAge, queuePollErrors, redrives)
}

// recordStats sets the queue series; peeked says st.OldestAge was measured.
func recordStats(ns, name string, st sqs.Stats, peeked bool, err error) {
	if err != nil {
		queuePollErrors.WithLabelValues(ns, name).Inc()
		return
	}
	for state, v := range map[string]int{"visible": st.Depth, "in_flight": st.InFlight, "delayed": st.Delayed, "dead_letter": st.DeadLetterDepth} {
		queueMessages.WithLabelValues(ns, name, state).Set(float64(v))
	}
	if peeked {
		oldestAge.WithLabelValues(ns, name).Set(st.OldestAge.Seconds())
	}
}

// forget drops a deleted EventConsumer's series.
func forget(ns, name string) {
	labels := prometheus.Labels{"namespace": ns, "consumer": name}
	queueMessages.DeletePartialMatch(labels)
	oldestAge.DeletePartialMatch(labels)
	queuePollErrors.DeletePartialMatch(labels)
	redrives.DeletePartialMatch(labels)
}

// MetricsServer returns the options of the operator's /metrics endpoint.
// With secure (the default of the operator binary) it serves HTTPS and lets
// in only requests whose bearer token the API server authenticates
// (TokenReview) and authorizes for `get` on the non-resource URL /metrics
// (SubjectAccessReview): bind a scraper to the chart's metrics-reader
// ClusterRole. Without a certificate in certDir it serves a self-signed
// one. HTTP/2 is off (CVE-2023-44487, rapid reset). Insecure serving is
// plain HTTP for a loopback address behind a proxy (or tests).
func MetricsServer(addr string, secure bool, certDir string) metricsserver.Options {
	o := metricsserver.Options{BindAddress: addr}
	if secure {
		o.SecureServing = true
		o.FilterProvider = filters.WithAuthenticationAndAuthorization
		o.CertDir = certDir
		o.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	return o
}

// Collectors are the operator's own series (besides controller-runtime's),
// for checks that dashboards and alerts name metrics that exist.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{queueMessages, oldestAge, queuePollErrors, redrives}
}
