package event

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// samePlainAsSDK fails when decodePlain takes doc and answers otherwise
// than sdk-go's decoder.
func samePlainAsSDK(t *testing.T, doc string) bool {
	t.Helper()
	got, ok := decodePlain([]byte(doc))
	if !ok {
		return false
	}
	var want ce.Event
	if err := want.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatalf("decodePlain took %s, sdk-go refuses it: %v", doc, err)
	}
	if !reflect.DeepEqual(got.Context, want.Context) || string(got.DataEncoded) != string(want.DataEncoded) ||
		(got.DataEncoded == nil) != (want.DataEncoded == nil) || got.DataBase64 != want.DataBase64 {
		t.Fatalf("%s:\n got %#v data %q\nwant %#v data %q", doc, got.Context, got.DataEncoded, want.Context, want.DataEncoded)
	}
	return true
}

func TestDecodePlainIsSDKGosDecoding(t *testing.T) {
	for doc, plain := range map[string]bool{
		`{"specversion":"1.0","id":"o-1","source":"shop","type":"io.eventplane.demo.order.placed.v1","time":"2026-11-26T17:10:00Z","datacontenttype":"application/json","data":{"orderId":"o-1","total":10}}`: true,
		`{"specversion":"1.0","id":"o-1","source":"https://shop.example/x?y=1","type":"t","subject":"","dataschema":"https://schemas.eventplane.io/events/x.json","data":[1, 2] ,"myext":"v"}`:                true,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data": {"a":1}}`:                                                    false, // sdk-go keeps the space before the data
		`{"specversion":"1.0","data":{"a":1},"datacontenttype":"application/json; charset=utf-8","id":"1","source":"s","type":"t"}`: true,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"hello"}`:                      true,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"","data":{"a":1}}`:                                true,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":null}`:                                                        true,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","schemaurl":"x","datacontentencoding":"base64"}`:                     true,
		`{"id":"1","specversion":"1.0","source":"s","type":"t"}`:                                                                    false, // specversion not first
		`{"specversion":"0.3","id":"1","source":"s","type":"t"}`:                                                                    false,
		`{"specversion":"1.0","id":"1","id":"2","source":"s","type":"t"}`:                                                           false,
		`{"specversion":"1.0","id":"caf\u00e9","source":"s","type":"t"}`:                                                            false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"aGk="}`:                                               false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","count":1}`:                                                          false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","UpperExt":"x"}`:                                                     true, // sdk-go lower-cases it
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}`:                                                 false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":{"a":1}}`:                      false,
		// sdk-go refuses a number a float64 cannot hold ("readNumberAsString: invalid number"):
		// the fast path leaves exponents and long digit runs to it.
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":1e309}`:            false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":[1E400]}}`:    false,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":"1e400 ok"}}`: false,
	} {
		if got := samePlainAsSDK(t, doc); got != plain {
			t.Errorf("decodePlain took %v, want %v: %s", got, plain, doc)
		}
	}
}

// A client controls how many members an event has (a 1 MiB body holds
// ~88,000 short extensions): decoding must stay linear in them. Before, each
// member was compared with every earlier one: 7.2 s for such a body.
func TestDecodeStructuredIsLinearInTheMembers(t *testing.T) {
	doc := func(n int) []byte {
		var b strings.Builder
		b.WriteString(`{"specversion":"1.0","id":"1","source":"s","type":"t"`)
		for i := range n {
			fmt.Fprintf(&b, `,"x%d":""`, i)
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	small, large := doc(2000), doc(64000)
	cost := func(d []byte) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			if _, err := DecodeStructured(d); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	a, b := cost(small), cost(large)
	// 32x the members: linear is ~32x, quadratic ~1000x; 200x leaves room
	// for a loaded machine and still tells the two apart.
	if b > 200*a {
		t.Errorf("64,000 extensions took %v, 2,000 took %v (%.0fx for 32x the members): decoding is not linear", b, a, float64(b)/float64(a))
	}
}

func FuzzDecodePlain(f *testing.F) {
	f.Add(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"n":1e309}}`)
	f.Add(`{"specversion":"1.0","id":"o-1","source":"shop","type":"t","time":"2026-11-26T17:10:00Z","datacontenttype":"application/json","data":{"a":1}}`)
	f.Add(`{"specversion":"1.0","id":"1","source":"s","type":"t","subject":"x","dataschema":"http://a/b","data" : "x" ,"e":"v"}`)
	f.Add(`{"specversion":"1.0","data":"x","datacontenttype":"text/plain","id":"1","source":"s","type":"t"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		if !jsonscan.Valid(doc) {
			return // DecodeStructured's callers hand it valid JSON; decodePlain checks what it reads
		}
		samePlainAsSDK(t, doc)
	})
}

func BenchmarkDecodeStructured(b *testing.B) {
	doc := []byte(`{"specversion":"1.0","id":"o-1","source":"shop","type":"io.eventplane.demo.order.placed.v1","time":"2026-11-26T17:10:00Z","datacontenttype":"application/json","data":{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}}`)
	b.Run("baseline sdk-go", func(b *testing.B) {
		for range b.N {
			var e ce.Event
			if err := e.UnmarshalJSON(doc); err != nil {
				b.Fatal(err)
			}
			if err := e.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodeStructured", func(b *testing.B) {
		for range b.N {
			if _, err := DecodeStructured(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The bus entry of an event with many extensions is built in linear time
// too: ingest builds it before it knows the entry is over EventBridge's
// 256 KiB (before, one 1 MiB POST of ~88,000 extensions cost ~48 s of CPU).
func TestEventBridgeDetailIsLinearInTheExtensions(t *testing.T) {
	detail := func(n int) time.Duration {
		e := ce.New()
		e.SetID("1")
		e.SetSource("s")
		e.SetType("t")
		for i := range n {
			e.SetExtension(fmt.Sprintf("x%d", i), "v")
		}
		best := time.Hour
		for range 3 {
			start := time.Now()
			_ = EventBridgeDetail(&e)
			best = min(best, time.Since(start))
		}
		return best
	}
	a, b := detail(1000), detail(32000)
	if b > 200*a {
		t.Errorf("32,000 extensions took %v, 1,000 took %v (%.0fx for 32x the extensions): not linear", b, a, float64(b)/float64(a))
	}
}
