package operator

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

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
	crmetrics.Registry.MustRegister(queueMessages, queuePollErrors, redrives)
}

func recordStats(ns, name string, st sqs.Stats, err error) {
	if err != nil {
		queuePollErrors.WithLabelValues(ns, name).Inc()
		return
	}
	for state, v := range map[string]int{"visible": st.Depth, "in_flight": st.InFlight, "delayed": st.Delayed, "dead_letter": st.DeadLetterDepth} {
		queueMessages.WithLabelValues(ns, name, state).Set(float64(v))
	}
}

// forget drops a deleted EventConsumer's series.
func forget(ns, name string) {
	labels := prometheus.Labels{"namespace": ns, "consumer": name}
	queueMessages.DeletePartialMatch(labels)
	queuePollErrors.DeletePartialMatch(labels)
	redrives.DeletePartialMatch(labels)
}
