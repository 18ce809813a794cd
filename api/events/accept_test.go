package events

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// agrees fails when the acceptor accepts data the library rejects, and
// returns whether it accepted.
func agrees(t *testing.T, r *Registry, typ string, data []byte) bool {
	t.Helper()
	inst, err := instance(data)
	if err != nil {
		return false
	}
	a := r.accept[typ]
	if a == nil || !a.accepts(inst) {
		return false
	}
	if err := r.byType[typ].Validate(inst); err != nil {
		t.Fatalf("%s: the acceptor accepted %s, the library rejects it: %v", typ, data, err)
	}
	return true
}

// Every embedded schema uses only keywords the acceptor reads, so a valid
// event never pays for the library's validator; an invalid one still gets
// the library's answer and wording (TestValidate).
func TestAcceptorTakesTheValidEvents(t *testing.T) {
	r, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range r.Types() {
		if r.accept[typ] == nil {
			t.Errorf("%s: no acceptor; its events all go through the library's validator", typ)
		}
	}
	valid := map[string][]string{
		"io.eventplane.demo.order.placed.v1": {
			`{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`,
			`{"orderId":"7f3a","customerId":"c-19","currency":"EUR","total":129.5,"items":[{"sku":"BOOK-1","quantity":2,"price":64.75}],"note":"extra fields are allowed"}`,
			`{"orderId":"ü","customerId":"c","currency":"USD","total":0.001}`,
		},
		"io.eventplane.report.generated.v1": {`{"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"counts":{"a":0,"b":12},"sums":{"x":-1.5}}`},
	}
	for typ, datas := range valid {
		for _, d := range datas {
			if !agrees(t, r, typ, []byte(d)) {
				t.Errorf("%s: %s not accepted by the fast path", typ, d)
			}
		}
	}
}

// What the acceptor cannot prove valid goes to the library: wrong types,
// bounds, patterns, lengths, formats, missing properties, and the numbers
// whose comparison needs exact arithmetic.
func TestAcceptorLeavesTheRestToTheLibrary(t *testing.T) {
	r, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const order = "io.eventplane.demo.order.placed.v1"
	item := func(q, p string) string {
		return `{"orderId":"o","customerId":"c","currency":"EUR","total":1,"items":[{"sku":"a","quantity":` + q + `,"price":` + p + `}]}`
	}
	for _, d := range []string{
		`{"orderId":"o","customerId":"c","currency":"EUR"}`,           // total missing
		`{"orderId":"","customerId":"c","currency":"EUR","total":1}`,  // minLength
		`{"orderId":"o","customerId":"c","currency":"eur","total":1}`, // pattern
		`{"orderId":"o","customerId":"c","currency":"EUR","total":-0.5}`,
		`{"orderId":"o","customerId":"c","currency":"EUR","total":"1"}`,
		`{"orderId":1,"customerId":"c","currency":"EUR","total":1}`,
		`{"orderId":"o","customerId":"c","currency":"EUR","total":1,"items":[]}`, // minItems
		`{"orderId":"o","customerId":"c","currency":"EUR","total":1,"items":{}}`,
		`[]`, `"order"`, `null`,
		item("0", "1"), item("1.5", "1"), item("1", "-1"), item("1", "-1e-400"),
		item("1.0", "1"),                 // an integer to the library, not written as one
		item("1", "0.0"),                 // equal to the minimum, not an integer
		item("1", "1e400"),               // beyond float64
		item("1", "-0.0000000000000001"), // just below the minimum
	} {
		if agrees(t, r, order, []byte(d)) {
			t.Errorf("accepted %s", d)
		}
	}
	for _, d := range []string{
		`{"window":{"start":"yesterday","end":"2026-01-02T00:00:00Z"},"counts":{}}`,
		`{"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"counts":{"a":-1}}`,  // additionalProperties' minimum
		`{"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"counts":{"a":1.5}}`, // and its type
	} {
		if agrees(t, r, "io.eventplane.report.generated.v1", []byte(d)) {
			t.Errorf("accepted %s", d)
		}
	}
}

// A schema with a keyword the acceptor does not read has no acceptor at all.
func TestAcceptorOnlyForKeywordsItReads(t *testing.T) {
	for _, schema := range []string{
		`{"type":"object","properties":{"a":{"type":"string","maxLength":3}}}`,
		`{"type":"object","additionalProperties":false}`,
		`{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"type":"string"}}}`,
		`{"type":"array","prefixItems":[{"type":"string"}]}`,
		`{"type":"number","exclusiveMinimum":0}`,
		`{"type":"number","minimum":0.1}`, // not exact in float64
		`{"enum":[1,"a"]}`,
		`{"type":"object","properties":{"a":false}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`,
	} {
		c := jsonschema.NewCompiler()
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("x.json", doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("x.json")
		if err != nil {
			t.Fatal(err)
		}
		if newAcceptor(s) != nil {
			t.Errorf("%s: has an acceptor", schema)
		}
	}
}

// FuzzAcceptor: on any data, for every embedded schema, the acceptor never
// accepts what santhosh-tekuri/jsonschema rejects.
func FuzzAcceptor(f *testing.F) {
	r, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`,
		`{"orderId":"o","customerId":"c","currency":"EUR","total":1e-5,"items":[{"sku":"a","quantity":-0,"price":0}]}`,
		`{"window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"counts":{"a":1}}`,
		`{"bucket":"b","key":"k","format":"csv","rows":3,"processedAt":"2026-01-01T00:00:00Z"}`,
		`{"paymentId":"p","orderId":"o","amount":1.5,"currency":"EUR"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range r.Types() {
			agrees(t, r, typ, data)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	r, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	const order = "io.eventplane.demo.order.placed.v1"
	data := []byte(`{"orderId":"o-123456","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`)
	b.Run("baseline library validator", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			inst, err := instance(data)
			if err != nil {
				b.Fatal(err)
			}
			if err := r.byType[order].Validate(inst); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := r.Validate(order, "", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
