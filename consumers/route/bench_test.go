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

// orderEventJSON is a CloudEvent in its JSON format, about 1 KB, as the local
// bus and the consumers match it.
const orderEventJSON = `{"specversion": "1.0", "id": "ord-1", "source": "https://shop.example.com/orders",
 "type": "io.eventplane.demo.order.placed.v1", "subject": "orders/1", "time": "2026-01-02T03:04:05Z",
 "datacontenttype": "application/json", "tenant": "acme", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
 "data": {"total": 129.5, "currency": "EUR",
  "customer": {"id": "c-42", "email": "ada@example.com", "tier": "gold", "since": "2019-05-01", "marketing": false},
  "items": [{"sku": "BOOK-1", "qty": 1, "price": 29.5, "title": "The Art of Computer Programming"},
            {"sku": "PEN-2", "qty": 4, "price": 25, "title": "Fountain pen"},
            {"sku": "INK-9", "qty": 2, "price": 25, "title": "Blue ink"}],
  "shipping": {"method": "express", "address": {"street": "1 Infinite Loop", "city": "Cupertino", "zip": "95014", "country": "US"}},
  "payment": {"method": "card", "brand": "visa", "last4": "4242", "authorized": true},
  "tags": ["gift", "priority", "returning-customer"],
  "notes": "Leave at the front desk. Ring twice. The dog is friendly; the cat is not."}}`

// benchRules returns n rules: the ten of tenRules, then variants of the same
// ten shapes whose selecting field (a type, source, tenant, subject, sku...)
// takes a value of their own, as rules of different teams on one bus do. The
// matches stay those of the first ten, so the cost measured is the cost of
// the rules that do not match.
func benchRules(n int) []string {
	shapes := []string{
		`{"type": ["io.eventplane.t%d.order.placed.v1", "io.eventplane.t%[1]d.order.placed.v2"]}`,
		`{"type": [{"prefix": "io.eventplane.t%d.payment."}]}`,
		`{"source": [{"wildcard": "https://shop%d.example.com/*"}], "data": {"total": [{"numeric": [">", 100]}]}}`,
		`{"data": {"currency": ["X%03d"]}}`,
		`{"data": {"items": {"sku": [{"prefix": "SKU%d-"}]}}}`,
		`{"tenant": ["tenant-%d", "other-%[1]d"], "subject": [{"prefix": "orders/"}]}`,
		`{"source": ["https://src%d.example.com"], "type": [{"anything-but": {"prefix": "io.eventplane."}}]}`,
		`{"subject": ["orders/t%d"], "data": {"channel": [{"exists": false}]}}`,
		`{"tenant": ["t%d"], "$or": [{"data": {"total": [{"numeric": ["<", 1]}]}}, {"data": {"currency": [{"equals-ignore-case": "eur"}]}}]}`,
		`{"source": [{"suffix": "/returns%d"}]}`,
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i < len(tenRules) {
			out = append(out, tenRules[i])
			continue
		}
		out = append(out, fmt.Sprintf(shapes[i%len(shapes)], i/len(shapes)))
	}
	return out
}

// BenchmarkSetRules matches one 1 KB JSON event against 10, 100, 1,000 and
// 10,000 rules; hack/bench.sh reports each against the 10-rule case (the
// baseline) of the same run.
func BenchmarkSetRules(b *testing.B) {
	doc := []byte(orderEventJSON)
	for _, n := range []int{10, 100, 1000, 10000} {
		s := NewSet()
		for _, p := range benchRules(n) {
			if _, err := s.Add([]byte(p)); err != nil {
				b.Fatal(err)
			}
		}
		name := fmt.Sprintf("rules=%d", n)
		if n == 10 {
			name = "baseline=rules=10"
		}
		b.Run(name, func(b *testing.B) {
			dst := make([]int, 0, 16)
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.MatchJSON(doc, dst[:0])
				if err != nil || len(got) != 6 {
					b.Fatalf("matched %v, %v", got, err)
				}
			}
		})
	}
}
