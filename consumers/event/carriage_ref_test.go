package event

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// referenceDetail is EventBridgeDetail as it was written first (a map and
// json.Marshal): the detail on the bus must stay byte for byte the same,
// since rules match it and the normalizer reads it back.
func referenceDetail(e *ce.Event) string {
	c := map[string]string{"specversion": ce.CloudEventsVersionV1, "id": e.ID(), "source": e.Source()}
	if s := e.Subject(); s != "" {
		c["subject"] = s
	}
	if t := e.Time(); !t.IsZero() {
		c["time"] = t.UTC().Format(time.RFC3339Nano)
	}
	if ct := e.DataContentType(); ct != "" {
		c["datacontenttype"] = ct
	}
	if ds := e.DataSchema(); ds != "" {
		c["dataschema"] = ds
	}
	for name, v := range e.Extensions() {
		if hopExtensions[name] {
			continue
		}
		if s, err := types.Format(v); err == nil {
			c[name] = s
		}
	}
	data := e.Data()
	trimmed := trimSpace(string(data))
	var body string
	switch {
	case len(data) == 0:
		c["detail_wraps"] = wrapNone
	case isJSONMedia(e.DataMediaType()) && trimmed != "" && trimmed[0] == '{' && jsonscan.Valid(trimmed):
		body = trimmed
	case isJSONMedia(e.DataMediaType()) && jsonscan.Valid(trimmed):
		c["detail_wraps"] = wrapData
		body = `{"data":` + trimmed + `}`
	case utf8.Valid(data):
		c["detail_wraps"] = wrapData
		s, _ := json.Marshal(string(data))
		body = `{"data":` + string(s) + `}`
	default:
		c["detail_wraps"] = wrapBase64
		body = `{"data_base64":"` + base64.StdEncoding.EncodeToString(data) + `"}`
	}
	carried, _ := json.Marshal(c)
	head := `{"` + DetailKey + `":` + string(carried)
	if body == "" {
		return head + "}"
	}
	rest := trimSpace(body[1:])
	if rest == "}" {
		return head + "}"
	}
	return head + "," + rest
}

func detailEvent(t testing.TB, contentType string, data []byte, subject string, ext map[string]any) *ce.Event {
	t.Helper()
	e := ce.New()
	e.SetID("id-1")
	e.SetSource("shop/checkout")
	e.SetType("io.eventplane.demo.order.placed.v1")
	e.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	if subject != "" {
		e.SetSubject(subject)
	}
	for k, v := range ext {
		e.SetExtension(k, v)
	}
	if contentType != "" {
		e.SetDataContentType(contentType)
	}
	e.DataEncoded = data
	return &e
}

func TestEventBridgeDetailIsTheReferencesBytes(t *testing.T) {
	cases := map[string]*ce.Event{
		"object":             detailEvent(t, "application/json", []byte(`{"orderId":"o-1","total":10}`), "order 1", nil),
		"object with spaces": detailEvent(t, "application/json", []byte(" \n{ \"a\" : 1 }\t"), "", nil),
		"empty object":       detailEvent(t, "application/json", []byte(`{ }`), "", nil),
		"array":              detailEvent(t, "application/json", []byte(` [1,2] `), "", nil),
		"number":             detailEvent(t, "application/json", []byte(`42`), "", nil),
		"text":               detailEvent(t, "text/plain", []byte("a \"quoted\" <line>\n"), "", nil),
		"invalid json text":  detailEvent(t, "application/json", []byte(`{"a":`), "", nil),
		"binary":             detailEvent(t, "application/octet-stream", []byte{0xff, 0, 1}, "", nil),
		"no data":            detailEvent(t, "", nil, "", nil),
		"html in attributes": detailEvent(t, "application/json", []byte(`{}`), "a<b>&c", map[string]any{"partitionkey": "k&1", "count": 7}),
		"hop extensions":     detailEvent(t, "application/json", []byte(`{"a":1}`), "", map[string]any{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "sqsmessageid": "m"}),
		"unicode subject":    detailEvent(t, "application/json; charset=utf-8", []byte(`{"a":"é"}`), "bestellung \u2028 ü", nil),
		"schema":             detailEvent(t, "application/json", []byte(`{"a":1}`), "", nil),
	}
	cases["schema"].SetDataSchema("https://schemas.eventplane.io/events/x.json")
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			if got, want := EventBridgeDetail(e), referenceDetail(e); got != want {
				t.Fatalf("detail:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzEventBridgeDetail(f *testing.F) {
	f.Add("application/json", []byte(`{"a":1}`), "s", "x")
	f.Add("text/plain", []byte("<&>"), "\xff", "y")
	f.Fuzz(func(t *testing.T, contentType string, data []byte, subject, ext string) {
		e := detailEvent(t, contentType, data, subject, nil)
		if ext != "" {
			e.SetExtension("myext", ext)
		}
		if got, want := EventBridgeDetail(e), referenceDetail(e); got != want {
			t.Fatalf("detail:\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkEventBridgeDetail(b *testing.B) {
	e := detailEvent(b, "application/json", []byte(`{"orderId":"o-123456","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`), "", nil)
	b.Run("baseline map and json.Marshal", func(b *testing.B) {
		for range b.N {
			_ = referenceDetail(e)
		}
	})
	b.Run("appended", func(b *testing.B) {
		for range b.N {
			_ = EventBridgeDetail(e)
		}
	})
}
