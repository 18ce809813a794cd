package events

import (
	"encoding/json"
	"math/big"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// acceptor answers "this instance is valid" for the common case without
// santhosh-tekuri/jsonschema's validator, whose number keywords build a
// big.Rat through fmt.Sprintf for every number they bound (~4 µs of an
// order event's ~5 µs at ingest). It only ever accepts: an instance it does
// not accept, or anything it is unsure of, goes to the library, which
// decides and words every error as before (FuzzAcceptor checks that it never
// accepts what the library rejects).
//
// It is built from the compiled *jsonschema.Schema, so keywords are read as
// the library understood them, and only for a schema whose every keyword is
// one of those below (draft 2020-12, no $ref); any other keyword set on any
// subschema leaves the whole schema to the library.
type acceptor struct {
	types      []string // of Types.ToStrings(); empty: any
	enum       []string // string values only (else the schema is unsupported)
	format     *jsonschema.Format
	required   []string
	properties map[string]*acceptor
	additional *acceptor // for the names properties does not list; nil: any value
	items      *acceptor
	minItems   *int
	minLength  *int
	pattern    jsonschema.Regexp
	minimum    *big.Rat
	minFloat   float64 // minimum as float64, exactly
	minInt     int64   // minimum as int64, when it is an integer
	minIsInt   bool
	always     bool // the boolean schema true
}

// handled lists the Schema fields the acceptor reads, and the annotations
// and bookkeeping fields that never change whether an instance is valid.
var handled = map[string]bool{
	"DraftVersion": true, "Location": true, "ID": true, "Bool": true,
	"Types": true, "Enum": true, "Format": true, "Required": true, "Properties": true,
	"AdditionalProperties": true, "Items2020": true, "MinItems": true, "MinLength": true,
	"Pattern": true, "Minimum": true,
	"Title": true, "Description": true, "Default": true, "Comment": true,
	"ReadOnly": true, "WriteOnly": true, "Examples": true, "Deprecated": true,
}

// newAcceptor returns nil when s uses anything it does not handle.
func newAcceptor(s *jsonschema.Schema) *acceptor {
	if s == nil || s.DraftVersion != 2020 {
		return nil
	}
	if s.Bool != nil {
		if !*s.Bool {
			return nil
		}
		return &acceptor{always: true}
	}
	v := reflect.ValueOf(s).Elem()
	for i, t := 0, v.Type(); i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && !handled[f.Name] && !v.Field(i).IsZero() {
			return nil
		}
	}
	a := &acceptor{format: s.Format, required: s.Required, minItems: s.MinItems, minLength: s.MinLength, pattern: s.Pattern}
	if a.format != nil && (a.format.Name == "regex" || a.format.Validate == nil) {
		return nil
	}
	if s.Types != nil {
		a.types = s.Types.ToStrings()
	}
	if s.Enum != nil {
		for _, e := range s.Enum.Values {
			str, ok := e.(string)
			if !ok {
				return nil
			}
			a.enum = append(a.enum, str)
		}
		if len(a.enum) == 0 {
			return nil
		}
	}
	if s.Minimum != nil {
		f, exact := s.Minimum.Float64()
		if !exact {
			return nil
		}
		a.minimum, a.minFloat = s.Minimum, f
		if s.Minimum.IsInt() && s.Minimum.Num().IsInt64() {
			a.minInt, a.minIsInt = s.Minimum.Num().Int64(), true
		}
	}
	if len(s.Properties) > 0 {
		a.properties = make(map[string]*acceptor, len(s.Properties))
		for k, ps := range s.Properties {
			if a.properties[k] = newAcceptor(ps); a.properties[k] == nil {
				return nil
			}
		}
	}
	switch ap := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		if !ap {
			return nil
		}
	case *jsonschema.Schema:
		if a.additional = newAcceptor(ap); a.additional == nil {
			return nil
		}
	default:
		return nil
	}
	if s.Items2020 != nil {
		if a.items = newAcceptor(s.Items2020); a.items == nil {
			return nil
		}
	}
	return a
}

// accepts reports whether v is certainly valid; false means "ask the library".
func (a *acceptor) accepts(v any) bool {
	if a.always {
		return true
	}
	if len(a.types) > 0 && !a.typed(v) {
		return false
	}
	if a.enum != nil {
		str, ok := v.(string)
		if !ok || !contains(a.enum, str) {
			return false
		}
	}
	if a.format != nil && a.format.Validate(v) != nil {
		return false
	}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range a.required {
			if _, ok := v[k]; !ok {
				return false
			}
		}
		for k, pa := range a.properties {
			if pv, ok := v[k]; ok && !pa.accepts(pv) {
				return false
			}
		}
		if a.additional != nil {
			for k, pv := range v {
				if _, listed := a.properties[k]; !listed && !a.additional.accepts(pv) {
					return false
				}
			}
		}
	case []any:
		if a.minItems != nil && len(v) < *a.minItems {
			return false
		}
		if a.items != nil {
			for _, e := range v {
				if !a.items.accepts(e) {
					return false
				}
			}
		}
	case string:
		if a.minLength != nil && utf8.RuneCountInString(v) < *a.minLength {
			return false
		}
		if a.pattern != nil && !a.pattern.MatchString(v) {
			return false
		}
	case json.Number:
		if a.minimum != nil && !a.atLeast(v) {
			return false
		}
	case nil, bool:
	default: // a Go type the decoder does not produce
		return false
	}
	return true
}

// typed reports whether v certainly has one of the schema's types. A number
// is an integer here only when written as one; "1.0" (an integer to the
// library) is left to it.
func (a *acceptor) typed(v any) bool {
	var t string
	switch v := v.(type) {
	case map[string]any:
		t = "object"
	case []any:
		t = "array"
	case string:
		t = "string"
	case bool:
		t = "boolean"
	case nil:
		t = "null"
	case json.Number:
		if plainInt(string(v)) && contains(a.types, "integer") {
			return true
		}
		t = "number"
	default:
		return false
	}
	return contains(a.types, t)
}

// atLeast reports whether n is certainly >= the minimum. An integer of up
// to 18 digits is compared exactly; otherwise strconv's correctly rounded
// float64, which rounds monotonically, proves n >= minimum when it is
// strictly above the (exactly representable) minimum; equal is left to the
// library.
func (a *acceptor) atLeast(n json.Number) bool {
	s := string(n)
	if a.minIsInt && plainInt(s) && len(s) <= 18 {
		i, err := strconv.ParseInt(s, 10, 64)
		return err == nil && i >= a.minInt
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f > a.minFloat
}

// plainInt reports whether s is an optional minus and digits only.
func plainInt(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
