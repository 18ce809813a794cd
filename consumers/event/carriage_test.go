package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// busEvent wraps a PutEvents detail the way EventBridge delivers it: its own
// id, the source, a time with one-second precision and the resources.
func busEvent(t *testing.T, e *ce.Event, detail string) string {
	t.Helper()
	var res []string
	if e.Subject() != "" {
		res = []string{e.Subject()}
	}
	doc, err := json.Marshal(map[string]any{"version": "0", "id": "8a593109-0000-4000-8000-000000000000", "detail-type": e.Type(),
		"source": e.Source(), "account": "123456789012", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": res, "detail": json.RawMessage(detail)})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// The wire contract both ways: a CloudEvent put on the bus as
// EventBridgeDetail describes comes back from the normalizer with the
// producer's attributes, although EventBridge assigns its own id and
// truncates the time to seconds; the detail keeps the data's members for
// rule patterns.
func TestWireContractBothWays(t *testing.T) {
	at := time.Date(2026, 11, 26, 17, 10, 0, 123456789, time.UTC)
	mk := func(mod func(e *ce.Event)) ce.Event {
		e := ce.New()
		e.SetID("o-1")
		e.SetSource("https://shop.example.com/orders")
		e.SetType("io.eventplane.demo.order.placed.v1")
		mod(&e)
		return e
	}
	cases := []struct {
		name       string
		e          ce.Event
		detailHas  string // a member patterns see as detail.<field>
		wantData   string
		wantBase64 bool
	}{
		{"json object", mk(func(e *ce.Event) {
			e.SetSubject("order/o-1")
			e.SetTime(at)
			e.SetDataSchema("https://schemas.example.com/order.json")
			e.SetExtension("tenant", "acme")
			e.SetExtension("partitionkey", "c-1")
			_ = e.SetData("application/json", map[string]any{"orderId": "o-1", "total": 1500})
		}), `"total":1500`, `{"orderId":"o-1","total":1500}`, false},
		{"json array", mk(func(e *ce.Event) { _ = e.SetData("application/json", []int{1, 2}) }), `"data":[1,2]`, `[1,2]`, false},
		{"cloudevents json suffix", mk(func(e *ce.Event) {
			e.SetDataContentType("application/vnd.order+json")
			e.DataEncoded = []byte(`{"a":1}`)
		}), `"a":1`, `{"a":1}`, false},
		{"text", mk(func(e *ce.Event) { _ = e.SetData("text/plain", "hello <world>") }), `"data":"hello \u003cworld\u003e"`, `hello <world>`, false},
		{"binary", mk(func(e *ce.Event) { _ = e.SetData("application/octet-stream", []byte{0xff, 0, 1}) }), `"data_base64":"/wAB"`, "\xff\x00\x01", true},
		{"no data", mk(func(*ce.Event) {}), `"` + DetailKey + `"`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			detail := EventBridgeDetail(&tc.e)
			if !json.Valid([]byte(detail)) || !strings.HasPrefix(detail, "{") {
				t.Fatalf("detail %s is not a JSON object", detail)
			}
			if !strings.Contains(detail, tc.detailHas) {
				t.Errorf("detail %s lacks %s", detail, tc.detailHas)
			}
			var n Normalizer
			evs, _, err := n.Normalize(nil, Message{Body: busEvent(t, &tc.e, detail), MessageID: "m-1"})
			if err != nil || len(evs) != 1 {
				t.Fatalf("normalize: %v %v", evs, err)
			}
			got := evs[0]
			if got.ID() != "o-1" || got.Source() != tc.e.Source() || got.Type() != tc.e.Type() || got.Subject() != tc.e.Subject() {
				t.Errorf("id %q source %q type %q subject %q: want the producer's", got.ID(), got.Source(), got.Type(), got.Subject())
			}
			if !got.Time().Equal(tc.e.Time()) && !tc.e.Time().IsZero() {
				t.Errorf("time %v, want the producer's %v (nanoseconds kept)", got.Time(), tc.e.Time())
			}
			if got.DataSchema() != tc.e.DataSchema() {
				t.Errorf("dataschema %q, want %q", got.DataSchema(), tc.e.DataSchema())
			}
			if !bytes.Equal(got.Data(), []byte(tc.wantData)) || got.DataBase64 != tc.wantBase64 {
				t.Errorf("data %q (base64 %v), want %q", got.Data(), got.DataBase64, tc.wantData)
			}
			if tc.e.DataContentType() != "" && got.DataContentType() != tc.e.DataContentType() {
				t.Errorf("datacontenttype %q, want %q", got.DataContentType(), tc.e.DataContentType())
			}
			if strings.Contains(string(got.Data()), DetailKey) {
				t.Errorf("data %s still holds the carriage", got.Data())
			}
			for k, v := range tc.e.Extensions() {
				if got.Extensions()[k] != v {
					t.Errorf("extension %s = %v, want %v", k, got.Extensions()[k], v)
				}
			}
			if got.Extensions()[ExtSQSMessageID] != "m-1" {
				t.Errorf("the hop's extensions are set again: %v", got.Extensions())
			}
			if err := got.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

// The hop's own extensions and the trace context are not carried: the next
// hop sets its own, and the trace travels in the transport's trace header.
func TestWireContractDropsHopExtensions(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	e.SetExtension(ExtSQSMessageID, "old")
	e.SetExtension(ExtSNSTopic, "arn:aws:sns:us-east-1:1:t")
	e.SetExtension(ExtTraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	d := EventBridgeDetail(&e)
	for _, x := range []string{ExtSQSMessageID, ExtSNSTopic, ExtTraceParent} {
		if strings.Contains(d, x) {
			t.Errorf("detail %s carries the hop extension %s", d, x)
		}
	}
}

// Events EventBridge itself or AWS services produce have no carriage: their
// id stays the bus's; a malformed carriage is an error naming the member.
func TestWireContractOtherEvents(t *testing.T) {
	var n Normalizer
	plain := `{"version":"0","id":"eb-1","detail-type":"Object Created","source":"aws.s3","account":"1","time":"2026-11-26T17:10:00Z","region":"us-east-1","resources":["arn:aws:s3:::b"],"detail":{"bucket":{"name":"b"}}}`
	evs, _, err := n.Normalize(nil, Message{Body: plain})
	if err != nil || evs[0].ID() != "eb-1" || string(evs[0].Data()) != `{"bucket":{"name":"b"}}` {
		t.Fatalf("%v %v", evs, err)
	}
	for _, tc := range []struct{ carriage, want string }{
		{`"x"`, "detail._cloudevent: want an object"},
		{`{"source":"s"}`, "detail._cloudevent.id: missing"},
		{`{"id":"1","source":"s","time":"yesterday"}`, "detail._cloudevent.time: not an RFC 3339 time"},
		{`{"id":"1","source":"s","Bad_Name":"x"}`, "detail._cloudevent.Bad_Name: extension attribute names"},
		{`{"id":"1","source":"s","n":1}`, "detail._cloudevent.n: want a string"},
		{`{"id":"1","source":"s","detail_wraps":"data"}`, "detail.data: missing"},
	} {
		body := strings.Replace(plain, `"detail":{`, `"detail":{"`+DetailKey+`":`+tc.carriage+`,`, 1)
		_, _, err := n.Normalize(nil, Message{Body: body})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("carriage %s: error %v, want %q", tc.carriage, err, tc.want)
		}
	}
}

// An event forwarded by a publish route keeps the producer's attributes but
// not the extensions of the hop it arrived by: the next hop sets its own.
func TestOutgoingDropsHopExtensions(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	e.SetExtension("tenant", "acme")
	e.SetExtension(ExtSQSMessageID, "m-old")
	e.SetExtension(ExtTraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	out := Outgoing(&e)
	if out.Extensions()["tenant"] != "acme" || out.Extensions()[ExtSQSMessageID] != nil || out.Extensions()[ExtTraceParent] != nil || out.ID() != "1" {
		t.Errorf("outgoing extensions %v", out.Extensions())
	}
	if e.Extensions()[ExtSQSMessageID] != "m-old" {
		t.Error("the original event was changed")
	}
}
