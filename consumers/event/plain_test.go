package event

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

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
// ~88,000 short extensions): the fast path, whose duplicate check compares
// each member with the earlier ones, takes 16 after specversion and leaves more to
// sdk-go (which uses a map). Before, it took any number: a 1 MiB body of
// 64,000 extensions took 3.2 s to decode (BenchmarkDecodeManyMembers).
func TestDecodePlainTakesAFewMembersOnly(t *testing.T) {
	for n, plain := range map[int]bool{13: true, 14: false, 64000: false} { // specversion, 3 attributes, n extensions
		doc := manyMembers(n)
		if got := samePlainAsSDK(t, string(doc)); got != plain {
			t.Errorf("%d members: decodePlain took it: %v, want %v", 4+n, got, plain)
		}
		if _, err := DecodeStructured(doc); err != nil {
			t.Fatal(err)
		}
	}
}

func manyMembers(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"specversion":"1.0","id":"1","source":"s","type":"t"`)
	for i := range n {
		fmt.Fprintf(&b, `,"x%d":""`, i)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// Decoding and the bus entry stay linear in the number of extensions: ns/op
// per extension at 1,000 and 32,000 (before: 1,319x and 1,495x the time for
// 32x the extensions).
func BenchmarkDecodeManyMembers(b *testing.B) {
	for _, n := range []int{1000, 32000} {
		doc := manyMembers(n)
		b.Run(fmt.Sprintf("decode/%d", n), func(b *testing.B) {
			for range b.N {
				if _, err := DecodeStructured(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
		e, err := DecodeStructured(doc)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("detail/%d", n), func(b *testing.B) {
			for range b.N {
				_ = EventBridgeDetail(&e)
			}
		})
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
