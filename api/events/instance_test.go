package events

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func sameAsJSONSchema(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	got, err := instance(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("instance(%q) error = %v, jsonschema.UnmarshalJSON's = %v", data, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("instance(%q) = %#v, jsonschema.UnmarshalJSON = %#v", data, got, want)
	}
}

// The decoded instance is exactly what jsonschema.UnmarshalJSON returns,
// values (json.Number text, last of repeated names) and errors alike.
func TestInstanceIsWhatJSONSchemaDecodes(t *testing.T) {
	for _, s := range []string{
		`{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`,
		` { "a" : [ 1 , -0.5e+3 , 2E7 , 0 , true , false , null , { } , [ ] ] } `,
		`{"a":1,"a":2}`, `"text"`, `12.50`, `-0`, `[]`, `{}`, `null`,
		`{"esc":"a\"b\\c\u00e9\n"}`, `{"utf8":"ümlaut"}`, "{\"bad\":\"\xff\"}", `{"sur":"\ud83d\ude00 \ud800"}`,
		``, ` `, `{`, `{"a":}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `1e`, `-`, `tru`, `nul`, `{"a":1} x`, `{} {}`, `"a`, "\"a\tb\"",
		strings.Repeat("[", 1200) + strings.Repeat("]", 1200),
	} {
		sameAsJSONSchema(t, []byte(s))
	}
}

func FuzzInstance(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x",true,null,{}]}`, `{"a":"\u00e9"}`, `[-0.0e-1]`, `{"a":1,"a":{"b":[]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsJSONSchema(t, data) })
}

func BenchmarkInstance(b *testing.B) {
	data := []byte(`{"orderId":"o-123456","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`)
	b.Run("baseline jsonschema.UnmarshalJSON", func(b *testing.B) {
		for range b.N {
			if _, err := jsonschema.UnmarshalJSON(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("instance", func(b *testing.B) {
		for range b.N {
			if _, err := instance(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
