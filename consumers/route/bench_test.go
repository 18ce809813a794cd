package route

import (
	"encoding/json"
	"fmt"
	"testing"
)

var tenRules = []string{
	`{"type": ["io.eventplane.demo.order.placed.v1", "io.eventplane.demo.order.placed.v2"]}`,
	`{"type": [{"prefix": "io.eventplane.demo.payment."}]}`,
	`{"source": [{"wildcard": "https://shop.example.com/*"}], "data": {"total": [{"numeric": [">", 100]}]}}`,
	`{"data": {"currency": ["USD"]}}`,
	`{"data": {"items": {"sku": [{"prefix": "BOOK-"}]}}}`,
	`{"tenant": ["acme", "globex"], "subject": [{"prefix": "orders/"}]}`,
	`{"type": [{"anything-but": {"prefix": "io.eventplane."}}]}`,
	`{"data": {"channel": [{"exists": false}]}}`,
	`{"$or": [{"data": {"total": [{"numeric": ["<", 1]}]}}, {"data": {"currency": [{"equals-ignore-case": "eur"}]}}]}`,
	`{"source": [{"suffix": "/returns"}]}`,
}

// BenchmarkRouter routes one CloudEvent through a 10-rule router; the baseline
// marshals the event to JSON and decodes it into a map first, as a naive
// matcher over generic JSON would.
func BenchmarkRouter(b *testing.B) {
	var routes []Route[int]
	for i, p := range tenRules {
		routes = append(routes, Route[int]{Name: fmt.Sprint("r", i), Pattern: p, Handler: i})
	}
	r, err := NewRouter(routes...)
	if err != nil {
		b.Fatal(err)
	}
	e := orderEvent()
	b.Run("baseline=marshal+decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, _ := json.Marshal(e)
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("router", func(b *testing.B) {
		dst := make([]*Route[int], 0, len(routes))
		b.ReportAllocs()
		for b.Loop() {
			if got := r.Match(&e, dst[:0]); len(got) != 6 {
				b.Fatalf("matched %d routes", len(got))
			}
		}
	})
}
