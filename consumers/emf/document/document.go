// Package document encodes one CloudWatch Embedded Metric Format (EMF)
// document: a JSON log event whose `_aws` member (Timestamp,
// CloudWatchMetrics: a namespace, dimension sets naming root members whose
// values are strings, and metric definitions naming root members whose
// values are numbers or arrays of at most 100 numbers) tells CloudWatch Logs
// to extract a metric. It links nothing but the standard library, so a
// Lambda function writes its metrics with it without a metrics client.
package document

import (
	"encoding/json"
	"fmt"
	"sort"
)

// MaxValues is the most values one EMF metric member may hold.
const MaxValues = 100

// Label is one dimension of a series (a Prometheus label).
type Label struct{ Name, Value string }

// Metric is one series' value at Timestamp (milliseconds since the epoch).
type Metric struct {
	Namespace string
	// Fixed dimensions of every line, e.g. {"function": "eventplane-prod-files"}.
	Fixed     map[string]string
	Name      string
	Unit      string
	Value     any // a number or []float64 of at most MaxValues
	Labels    []Label
	Timestamp int64
}

// Encode returns m as one EMF line (JSON and a newline): the metric, its
// labels and the fixed dimensions as root members, and the directive naming
// them. Its dimension sets are the labels with the fixed dimensions and,
// when there are labels, the fixed dimensions alone (the total over the
// labels, e.g. all routes of a function). Empty values are left out (a
// dimension value must not be empty).
func Encode(m Metric) ([]byte, error) {
	root := map[string]any{m.Name: m.Value}
	dims := []string{} // [] not null: a DimensionSet is an array
	for k, v := range m.Fixed {
		if v != "" {
			root[k] = v
			dims = append(dims, k)
		}
	}
	fixed := append([]string{}, dims...)
	for _, l := range m.Labels {
		if l.Value != "" {
			root[l.Name] = l.Value
			dims = append(dims, l.Name)
		}
	}
	sort.Strings(fixed)
	sort.Strings(dims)
	sets := [][]string{dims}
	if len(fixed) < len(dims) {
		sets = append(sets, fixed)
	}
	root["_aws"] = metadata{Timestamp: m.Timestamp, CloudWatchMetrics: []directive{{
		Namespace: m.Namespace, Dimensions: sets, Metrics: []definition{{Name: m.Name, Unit: m.Unit}},
	}}}
	b, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("emf: encode %s: %w", m.Name, err)
	}
	return append(b, '\n'), nil
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit,omitempty"`
}
