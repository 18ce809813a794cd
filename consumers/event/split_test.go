package event

import (
	"testing"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// referenceSplit is splitDetail's member-by-member rebuild alone.
func referenceSplit(detail string) (string, string, bool) {
	b := []byte{'{'}
	var carried string
	ok := false
	m := jsonscan.ObjectMembers(detail)
	for m.Next() {
		if m.Key == DetailKey {
			carried, ok = m.Value, true
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendString(b, m.Key)
		b = append(b, ':')
		b = append(b, m.Value...)
	}
	return string(append(b, '}')), carried, ok
}

func sameSplit(t *testing.T, detail string) {
	t.Helper()
	if !jsonscan.Valid(detail) || detail == "" || detail[0] != '{' {
		return // splitDetail gets valid objects only
	}
	rest, carried, ok := splitDetail(detail)
	wantRest, wantCarried, wantOK := referenceSplit(detail)
	if ok != wantOK || (ok && (string(rest) != wantRest || carried != wantCarried)) {
		t.Fatalf("splitDetail(%s) = %s, %s, %v; the rebuild gives %s, %s, %v", detail, rest, carried, ok, wantRest, wantCarried, wantOK)
	}
}

func TestSplitDetailIsTheRebuild(t *testing.T) {
	for _, d := range []string{
		`{"_cloudevent":{"id":"1","source":"s","specversion":"1.0"},"orderId":"o 1","total":10,"items":[{"sku":"a","q":1}]}`,
		`{"_cloudevent":{"id":"1"}}`,
		`{"_cloudevent":{"id":"1"},"a":1,"_cloudevent":{"id":"2"}}`,
		`{"a":1,"_cloudevent":{"id":"1"}}`,
		`{"_cloudevent":{"id":"1"}, "a" : 1 }`,
		`{"_cloudevent":{"id":"1"},"k\u00e9":"v"}`,
		`{"_cloudevent":{"id":"1"},"a<b":"c&d"}`,
		`{"_cloudevent":{"id":"1"},"a":"München"}`,
		`{"_cloudevent":{"id":"1"},"a":"x\"y"}`,
		`{ "_cloudevent":{"id":"1"},"a":1}`,
		`{"_cloudevent" :{"id":"1"},"a":1}`,
	} {
		sameSplit(t, d)
	}
}

func FuzzSplitDetail(f *testing.F) {
	f.Add(`{"_cloudevent":{"id":"1","source":"s"},"orderId":"o 1","total":10}`)
	f.Add(`{"_cloudevent":{"id":"1"},"a":{"b":[1,"x y"]},"c":null}`)
	f.Fuzz(sameSplit)
}
