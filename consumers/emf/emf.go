// Package emf writes a Prometheus registry as CloudWatch Embedded Metric
// Format (EMF) log lines: CloudWatch Logs extracts metrics from JSON log
// events that carry an `_aws` member (Timestamp, CloudWatchMetrics: a
// namespace, dimension sets naming root members whose values are strings,
// and metric definitions naming root members whose values are numbers or
// arrays of at most 100 numbers). Metric names and dimensions are the
// registry's own, so the CloudWatch metrics match the Prometheus ones by
// construction: eventplane_messages_received_total{route=...} becomes the
// metric eventplane_messages_received_total with the dimension route.
//
// Counters are written as their increase since the previous Flush (CloudWatch
// sums them per period), gauges as their value, histograms as an array of
// bucket upper bounds repeated per new observation (CloudWatch computes
// percentiles from it at the buckets' resolution, as histogram_quantile does).
package emf

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/eventplane/eventplane/consumers/emf/document"
)

// MaxValues is the most values one EMF metric member may hold.
const MaxValues = document.MaxValues

// Options configure a Writer.
type Options struct {
	// Namespace of the CloudWatch metrics (default "eventplane").
	Namespace string
	// Dimensions are added to every line, e.g. {"function": "eventplane-prod-files"}.
	Dimensions map[string]string
	// Prefix selects the families written (default "eventplane_": not the
	// Go runtime and process collectors).
	Prefix string
	// Now is the clock of the lines' Timestamp (default time.Now).
	Now func() time.Time
}

// Writer writes EMF lines for a registry. It is safe for concurrent use.
type Writer struct {
	out io.Writer
	g   prometheus.Gatherer
	o   Options

	mu   sync.Mutex
	last map[string]float64 // counter values and bucket counts at the previous Flush
}

// New returns a Writer of g's families onto out.
func New(out io.Writer, g prometheus.Gatherer, o Options) *Writer {
	if o.Namespace == "" {
		o.Namespace = "eventplane"
	}
	if o.Prefix == "" {
		o.Prefix = "eventplane_"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Writer{out: out, g: g, o: o, last: map[string]float64{}}
}

// Flush gathers the registry and writes one EMF line per series that has
// something to report: a gauge always, a counter or histogram when it grew.
func (w *Writer) Flush() error {
	mfs, err := w.g.Gather()
	if err != nil {
		return fmt.Errorf("emf: gather: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := w.o.Now().UnixMilli()
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, w.o.Prefix) {
			continue
		}
		for _, m := range mf.GetMetric() {
			value, ok := w.value(name, mf.GetType(), m)
			if !ok {
				continue
			}
			line, err := w.line(ts, name, unit(name, mf.GetType()), value, m.GetLabel())
			if err != nil {
				return err
			}
			if _, err := w.out.Write(line); err != nil {
				return fmt.Errorf("emf: write: %w", err)
			}
		}
	}
	return nil
}

// value is what a series reports now, and whether it reports anything.
func (w *Writer) value(name string, typ dto.MetricType, m *dto.Metric) (any, bool) {
	key := name + "\xff" + labelKey(m.GetLabel())
	switch typ {
	case dto.MetricType_GAUGE:
		return finite(m.GetGauge().GetValue())
	case dto.MetricType_COUNTER:
		v := m.GetCounter().GetValue()
		d := v - w.last[key]
		w.last[key] = v
		if d <= 0 {
			return nil, false
		}
		return finite(d)
	case dto.MetricType_HISTOGRAM:
		return w.histogram(key, m.GetHistogram())
	case dto.MetricType_UNTYPED:
		return finite(m.GetUntyped().GetValue())
	}
	return nil, false // summaries: quantiles of a window do not add up in CloudWatch
}

// histogram turns the observations since the previous Flush into values:
// each bucket's upper bound once per new observation in it (the +Inf bucket
// counts as the largest finite bound), scaled down to MaxValues.
func (w *Writer) histogram(key string, h *dto.Histogram) (any, bool) {
	type bucket struct {
		bound float64
		n     float64
	}
	var news []bucket
	var total, prevCum, lastBound float64
	for _, b := range h.GetBucket() {
		cum := float64(b.GetCumulativeCount())
		k := fmt.Sprintf("%s\xfe%g", key, b.GetUpperBound())
		inBucket := cum - prevCum
		prevCum = cum
		d := inBucket - w.last[k]
		w.last[k] = inBucket
		lastBound = b.GetUpperBound()
		if d > 0 {
			news = append(news, bucket{b.GetUpperBound(), d})
			total += d
		}
	}
	count := float64(h.GetSampleCount())
	k := key + "\xfe+Inf"
	over := count - prevCum
	d := over - w.last[k]
	w.last[k] = over
	if d > 0 {
		news = append(news, bucket{lastBound, d})
		total += d
	}
	if total == 0 {
		return nil, false
	}
	scale := 1.0
	if total > MaxValues {
		scale = MaxValues / total
	}
	var values []float64
	for _, b := range news {
		n := int(math.Round(b.n * scale))
		if n == 0 {
			n = 1 // a rare slow bucket still shows in the maximum
		}
		for range n {
			values = append(values, b.bound)
		}
	}
	if len(values) > MaxValues {
		values = values[len(values)-MaxValues:] // keep the slowest
	}
	return values, true
}

func finite(v float64) (any, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, false // JSON has no NaN; CloudWatch rejects it
	}
	return v, true
}

// line encodes one EMF document (package document).
func (w *Writer) line(ts int64, name, unit string, value any, labels []*dto.LabelPair) ([]byte, error) {
	ls := make([]document.Label, 0, len(labels))
	for _, l := range labels {
		ls = append(ls, document.Label{Name: l.GetName(), Value: l.GetValue()})
	}
	return document.Encode(document.Metric{Namespace: w.o.Namespace, Fixed: w.o.Dimensions, Name: name, Unit: unit, Value: value, Labels: ls, Timestamp: ts})
}

// unit is the CloudWatch unit of a family, from the Prometheus naming
// conventions (base units in the name's suffix).
func unit(name string, typ dto.MetricType) string {
	switch {
	case strings.HasSuffix(name, "_seconds"):
		return "Seconds"
	case strings.HasSuffix(name, "_bytes"):
		return "Bytes"
	case typ == dto.MetricType_COUNTER, strings.HasSuffix(name, "_size"):
		return "Count"
	}
	return "None"
}

func labelKey(ls []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(l.GetValue())
		b.WriteByte(0)
	}
	return b.String()
}

// Every flushes w at each interval until ctx ends, then once more (the last
// increments before shutdown); a failed flush is logged.
func Every(ctx context.Context, interval time.Duration, w *Writer, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := w.Flush(); err != nil {
				log.Warn("EMF metrics", "error", err.Error())
			}
			return
		case <-t.C:
			if err := w.Flush(); err != nil {
				log.Warn("EMF metrics", "error", err.Error())
			}
		}
	}
}
