package handlers

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tidwall/gjson"
)

// jsonItem turns a JSON object into the attribute values that decoding it
// into a map[string]any and attributevalue.MarshalMap give (strings S,
// numbers N in strconv's shortest 'f' form of their float64, booleans BOOL,
// null NULL, arrays L, objects M), without the map and the reflection: it
// was the store handler's largest cost. Documents it does not vouch for
// byte for byte (non-objects, invalid UTF-8, \u escapes, empty keys,
// numbers out of float64's range) take that slow path, errors included.
func jsonItem(data []byte) (map[string]types.AttributeValue, error) {
	if i := skipSpace(data); i < len(data) && data[i] == '{' && utf8.Valid(data) &&
		!bytes.Contains(data, []byte(`\u`)) && json.Valid(data) {
		if av, ok := jsonAV(gjson.ParseBytes(data)); ok {
			return av.(*types.AttributeValueMemberM).Value, nil
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
// answer.
func jsonAV(r gjson.Result) (types.AttributeValue, bool) {
	switch r.Type {
	case gjson.String:
		return &types.AttributeValueMemberS{Value: r.Str}, true
	case gjson.Number:
		f, err := strconv.ParseFloat(r.Raw, 64)
		if err != nil {
			return nil, false
		}
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(f, 'f', -1, 64)}, true
	case gjson.True, gjson.False:
		return &types.AttributeValueMemberBOOL{Value: r.Type == gjson.True}, true
	case gjson.Null:
		return &types.AttributeValueMemberNULL{Value: true}, true
	}
	ok := true
	if r.IsArray() {
		l := &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		r.ForEach(func(_, v gjson.Result) bool {
			var av types.AttributeValue
			av, ok = jsonAV(v)
			l.Value = append(l.Value, av)
			return ok
		})
		return l, ok
	}
	m := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
	r.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "" {
			ok = false // MarshalMap refuses an empty key
			return false
		}
		var av types.AttributeValue
		av, ok = jsonAV(v)
		m.Value[k.Str] = av
		return ok
	})
	return m, ok
}
