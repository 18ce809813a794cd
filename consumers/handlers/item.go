package handlers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// jsonItem turns a JSON object into the attribute values that decoding it
// into a map[string]any and attributevalue.MarshalMap give (strings S,
// numbers N in strconv's shortest 'f' form of their float64, booleans BOOL,
// null NULL, arrays L, objects M), without the map and the reflection: it
// was the store handler's largest cost. Documents it does not vouch for
// byte for byte (non-objects, invalid UTF-8, \u escapes, empty keys,
// numbers out of float64's range) take that slow path, errors included.
//
// extra is how many attributes the caller adds to the item: the map is made
// with room for them, not grown while they are added.
func jsonItem(data []byte, extra int) (map[string]types.AttributeValue, error) {
	// jsonscan.Valid is fuzzed against json.Valid (a document nested
	// deeper than its limit takes the slow path).
	if i := skipSpace(data); i < len(data) && data[i] == '{' && utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		if doc := string(data[i:]); jsonscan.Valid(doc) {
			if m, ok := jsonObject(doc, 8+extra); ok { // 8: a small map's room
				return m, nil
			}
		}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, decodeError{err}
	}
	return attributevalue.MarshalMap(m)
}

// decodeError is a document that did not decode into a JSON object.
type decodeError struct{ error }

func (e decodeError) Unwrap() error { return e.error }

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonAV converts one valid JSON value; false when the slow path must
// answer. Iterators, not callbacks: the handler runs on fresh goroutines,
// whose stacks a callback per member grew (gjson's ForEach cost more in
// stack copies than in parsing).
func jsonAV(raw string) (types.AttributeValue, bool) {
	switch raw[0] {
	case '"':
		s, _ := jsonscan.String(raw)
		return &types.AttributeValueMemberS{Value: s}, true
	case 't', 'f':
		return &types.AttributeValueMemberBOOL{Value: raw[0] == 't'}, true
	case 'n':
		return &types.AttributeValueMemberNULL{Value: true}, true
	case '[':
		l := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		for it := jsonscan.ArrayElements(raw); it.Next(); {
			av, ok := jsonAV(it.Value)
			if !ok {
				return nil, false
			}
			l.Value = append(l.Value, av)
		}
		return l, true
	case '{':
		m, ok := jsonObject(raw, 0)
		if !ok {
			return nil, false
		}
		return &types.AttributeValueMemberM{Value: m}, true
	}
	if plainInteger(raw) {
		return &types.AttributeValueMemberN{Value: raw}, true // float64 holds it exactly
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return nil, false
	}
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(f, 'f', -1, 64)}, true
}

// jsonObject converts one valid JSON object into a map made with room for
// hint entries.
func jsonObject(raw string, hint int) (map[string]types.AttributeValue, bool) {
	m := make(map[string]types.AttributeValue, hint)
	for it := jsonscan.ObjectMembers(raw); it.Next(); {
		if it.Key == "" {
			return nil, false // MarshalMap refuses an empty key
		}
		av, ok := jsonAV(it.Value)
		if !ok {
			return nil, false
		}
		m[it.Key] = av
	}
	return m, true
}

// plainInteger reports whether the JSON number raw is an integer of at most
// 15 digits: its float64 is exact and strconv's shortest form is raw.
func plainInteger(raw string) bool {
	d := raw
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}
