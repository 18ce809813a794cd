package event

import (
	"maps"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// gjsonSNSAttributes is the gjson walk snsAttributes replaced, kept as the
// reference the jsonscan one must agree with, and as the benchmark's
// baseline.
func gjsonSNSAttributes(raw string) (map[string]string, error) {
	if jsonscan.IsNull(raw) {
		return nil, nil
	}
	v := gjson.Parse(raw)
	if !v.IsObject() {
		return nil, errorf("sns", "MessageAttributes", "want an object, got %s", jsonscan.Kind(raw))
	}
	var m map[string]string
	var err error
	v.ForEach(func(k, a gjson.Result) bool {
		if a.Get("Type").Str == "Binary" {
			return true
		}
		val := a.Get("Value")
		if val.Type != gjson.String {
			err = errorf("sns", "MessageAttributes."+k.Str+".Value", "want a string, got %s", jsonscan.Kind(val.Raw))
			return false
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[k.Str] = val.Str
		return true
	})
	return m, err
}

var snsAttributeSeeds = []string{
	``, `null`, `{}`, `[]`, `"x"`, `1`,
	`{"a":{"Type":"String","Value":"1"},"b":{"Type":"Number","Value":"2.5"}}`,
	`{"bin":{"Type":"Binary","Value":"AQID"},"s":{"Type":"String","Value":"x"}}`,
	`{"n":{"Type":"Number","Value":2}}`,
	`{"x":{"Type":"String"}}`, `{"x":"flat"}`, `{"x":[1]}`, `{"x":null}`,
	`{"a":{"Type":"String","Value":"1","Value":"2"}}`,
	`{"a":{"Type":"String","Value":"1"},"a":{"Type":"String","Value":"2"}}`,
	`{"\u0061":{"T\u0079pe":"String","Value":"caf\u00e9 \ud83d\ude00"}}`,
	` { "sp" : { "Value" : "v" , "Type" : "String" } } `,
	`{"t":{"Type":["Binary"],"Value":"v"}}`,
}

func agreeSNSAttributes(t *testing.T, raw string) {
	t.Helper()
	got, gerr := snsAttributes(raw)
	want, werr := gjsonSNSAttributes(raw)
	// On an error the caller drops the map (the gjson walk left it half full).
	if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) || (gerr == nil && !maps.Equal(got, want)) {
		t.Fatalf("snsAttributes(%q) = %v, %v; the gjson walk gave %v, %v", raw, got, gerr, want, werr)
	}
}

// The jsonscan walk answers exactly what the gjson walk did, errors included.
func TestSNSAttributesAgreeWithGJSON(t *testing.T) {
	for _, raw := range snsAttributeSeeds {
		agreeSNSAttributes(t, raw)
	}
}

func TestSNSAttributesReplaceInvalidUTF8(t *testing.T) {
	got, err := snsAttributes("{\"k\x8c\":{\"Type\":\"String\",\"Value\":\"v\xff\"}}")
	if err != nil || got["k\uFFFD"] != "v\uFFFD" {
		t.Fatalf("got %q, %v: want invalid bytes as U+FFFD", got, err)
	}
}

// FuzzSNSAttributes checks the agreement on every well-formed JSON value
// in valid UTF-8 (what the envelope's scan hands over; SQS accepts only
// valid Unicode bodies). The one intended difference: in invalid UTF-8,
// jsonscan puts U+FFFD for each bad byte, as encoding/json and the rest of
// the normalizer do, where gjson kept the bytes (TestSNSAttributesReplaceInvalidUTF8).
func FuzzSNSAttributes(f *testing.F) {
	for _, s := range snsAttributeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if raw != "" && (!jsonscan.Valid(raw) || !utf8.ValidString(raw)) {
			return
		}
		agreeSNSAttributes(t, raw)
	})
}

// BenchmarkSNSAttributes measures the walk on the attributes a fan-out
// subscription without raw delivery carries, against the gjson baseline in
// the same run.
func BenchmarkSNSAttributes(b *testing.B) {
	raw := `{"type":{"Type":"String","Value":"io.eventplane.demo.order.placed.v1"},"traceparent":{"Type":"String","Value":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},"priority":{"Type":"Number","Value":"3"},"blob":{"Type":"Binary","Value":"AQID"}}`
	b.Run("baseline=gjson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := gjsonSNSAttributes(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jsonscan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := snsAttributes(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
