package events

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestValidate(t *testing.T) {
	r, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const order = "io.eventplane.demo.order.placed.v1"
	if len(r.Types()) < 5 || !r.Known(order) {
		t.Fatalf("types = %v", r.Types())
	}
	good := `{"orderId":"7f3a","customerId":"c-19","currency":"EUR","total":129.5,"items":[{"sku":"BOOK-1","quantity":2,"price":64.75}]}`
	if err := r.Validate(order, "", []byte(good)); err != nil {
		t.Fatalf("good order rejected: %v", err)
	}
	if err := r.Validate(order, SchemaURI(order), []byte(good)); err != nil {
		t.Fatalf("good order with dataschema rejected: %v", err)
	}
	tests := []struct{ name, typ, schema, data, want string }{
		{"missing field", order, "", `{"orderId":"1","customerId":"c","currency":"EUR"}`, "/: missing property 'total'"},
		{"bad currency", order, "", `{"orderId":"1","customerId":"c","currency":"euro","total":1}`, "/currency:"},
		{"negative price", order, "", `{"orderId":"1","customerId":"c","currency":"EUR","total":1,"items":[{"sku":"a","quantity":1,"price":-1}]}`, "/items/0/price:"},
		{"not JSON", order, "", `<order/>`, "data is not JSON"},
		{"bad date-time", "io.eventplane.report.generated.v1", "", `{"window":{"start":"yesterday","end":"2026-01-01T00:00:00Z"},"counts":{}}`, "/window/start:"},
		{"schema of another type", order, SchemaURI("io.eventplane.demo.order.placed.v2"), good, "describes io.eventplane.demo.order.placed.v2, not " + order},
	}
	for _, tc := range tests {
		err := r.Validate(tc.typ, tc.schema, []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	if err := r.Validate("com.example.unknown.v1", "", []byte(`{}`)); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	if err := r.Validate(order, "https://example.com/x.json", []byte(good)); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown dataschema: %v", err)
	}
}

func TestLoadRejectsMisnamedSchemas(t *testing.T) {
	fsys := fstest.MapFS{"com.example.thing.v1.json": {Data: []byte(`{"$id":"https://example.com/x.json","x-eventplane-type":"com.example.thing.v1","type":"object"}`)}}
	if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), "$id") {
		t.Fatalf("err = %v", err)
	}
	fsys = fstest.MapFS{"com.example.thing.json": {Data: []byte(`{"$id":"` + SchemaBase + `com.example.thing.json","x-eventplane-type":"com.example.thing","type":"object"}`)}}
	if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), ".v<N>") {
		t.Fatalf("err = %v", err)
	}
}

func TestVersioning(t *testing.T) {
	if v, err := Version("io.eventplane.demo.order.placed.v2"); v != 2 || err != nil {
		t.Fatalf("Version = %d, %v", v, err)
	}
	for _, bad := range []string{"a.b", "a.v0", "a.v01", "a.vx"} {
		if _, err := Version(bad); err == nil {
			t.Errorf("Version(%q) accepted", bad)
		}
	}
	const v1, v2, v3 = "io.eventplane.demo.order.placed.v1", "io.eventplane.demo.order.placed.v2", "io.eventplane.demo.order.placed.v3"
	cases := []struct {
		want, got string
		ok        bool
	}{{v2, v2, true}, {v2, v1, true}, {v3, v1, false}, {v1, v2, false}, {v2, "io.eventplane.demo.payment.captured.v1", false}}
	for _, c := range cases {
		if Accepts(c.want, c.got) != c.ok {
			t.Errorf("Accepts(%s, %s) = %v", c.want, c.got, !c.ok)
		}
	}
}
