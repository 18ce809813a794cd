package handlers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The store's attribute values are what decoding into a map and
// attributevalue.MarshalMap give, for every document: the same item, or an
// error where that path errs.
func viaMap(data []byte) (map[string]types.AttributeValue, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return attributevalue.MarshalMap(m)
}

func sameItem(t *testing.T, doc []byte) {
	t.Helper()
	want, werr := viaMap(doc)
	got, gerr := jsonItem(doc, 0)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%s: error %v, the map path's %v", doc, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %#v\n want %#v", doc, got, want)
	}
}

var itemSeeds = []string{
	`{"orderId":"o-1","total":12.5,"qty":3,"paid":true,"note":null,"lines":[{"sku":"A","n":1},{"sku":"B","n":2}],"tags":[],"meta":{}}`,
	`{"big":12345678901234567890,"exp":1e21,"small":1e-7,"neg":-0,"frac":0.1}`,
	` {"a" : [ 1 , "x" , null , true , [ ] , { "b" : { } } ] } `,
	`{"dup":1,"dup":"two","nested":{"k":1,"k":{"z":false}}}`,
	`{"esc":"a\"b\\c\/d\n\t","k\"ey":"v"}`,
	`{"u":"\u00e9\ud83d\ude00","bad":"\ud800"}`,
	`{"":1}`, `{"a":{"":1}}`, `{"huge":1e400}`, `null`, `[1,2]`, `"s"`, `{"a":1`, `{"a":1}x`, `{}`,
	"{\"inv\":\"\xff\"}",
}

func TestJSONItemMatchesMarshalMap(t *testing.T) {
	for _, s := range itemSeeds {
		sameItem(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		sameItem(t, []byte(randomObject(r, 3)))
	}
}

func FuzzJSONItem(f *testing.F) {
	for _, s := range itemSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { sameItem(t, doc) })
}

func randomObject(r *rand.Rand, depth int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range r.IntN(5) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote([]string{"a", "b", "a.b", "k", "x y", "é"}[r.IntN(6)]))
		b.WriteByte(':')
		b.WriteString(randomValue(r, depth))
	}
	b.WriteByte('}')
	return b.String()
}

func randomValue(r *rand.Rand, depth int) string {
	switch n := r.IntN(9); {
	case n == 0 && depth > 0:
		return randomObject(r, depth-1)
	case n == 1 && depth > 0:
		var els []string
		for range r.IntN(4) {
			els = append(els, randomValue(r, depth-1))
		}
		return "[" + strings.Join(els, ",") + "]"
	case n == 2:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case n == 3:
		return strconv.FormatFloat(r.NormFloat64()*1e6, 'g', -1, 64)
	case n == 4:
		return strconv.FormatInt(r.Int64N(1<<62)-1<<61, 10)
	case n == 5:
		return []string{"0", "-0", "1.0", "1e3", "1E-3", "2.50", "123456789012345678901234", "0.000001"}[r.IntN(8)]
	default:
		return strconv.Quote([]string{"", "x", "tab\there", `q"uote`, "back\\slash", "日本"}[r.IntN(6)])
	}
}

// The partition name is the one fmt's verbs give, for every year, month,
// day and hour and for types with path characters.
func TestPartitionName(t *testing.T) {
	for _, tc := range []struct {
		typ string
		at  time.Time
	}{
		{"io.eventplane.demo.order.placed.v1", time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)},
		{"a/b=c", time.Date(999, 1, 9, 23, 0, 0, 0, time.UTC)},
		{"x", time.Date(12345, 10, 31, 0, 0, 0, 0, time.FixedZone("x", 3600))},
		{"", time.Date(7, 2, 1, 10, 0, 0, 0, time.UTC)},
	} {
		e := ce.New()
		e.SetType(tc.typ)
		e.SetTime(tc.at)
		u := tc.at.UTC()
		want := fmt.Sprintf("type=%s/year=%04d/month=%02d/day=%02d/hour=%02d", strings.NewReplacer("/", "_", "=", "_").Replace(tc.typ), u.Year(), u.Month(), u.Day(), u.Hour())
		if got := partition(&e); got != want {
			t.Errorf("partition(%s, %v) = %s, want %s", tc.typ, tc.at, got, want)
		}
	}
}

// BenchmarkStoreItem: the order data of the local platform's benchmark to
// attribute values, against decoding it into a map for
// attributevalue.MarshalMap (the store's way before).
func BenchmarkStoreItem(b *testing.B) {
	data := []byte(`{"orderId":"b-40000-17","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`)
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := viaMap(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonItem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jsonItem(data, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
