package event

import (
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// structured decodes a structured-mode CloudEvent (JSON format).
func structured(dst []ce.Event, env *envelope, doc string) ([]ce.Event, error) {
	e, err := DecodeStructured([]byte(doc))
	if err != nil {
		return dst, err
	}
	decorate(&e, env)
	return append(dst, e), nil
}

// DecodeStructured decodes and validates one structured-mode CloudEvent
// (JSON format) with sdk-go, converting 0.3 to 1.0. sdk-go panics on some
// malformed input (a non-string data_base64, found by schemathesis): that is
// checked first, and any other panic in the decoder becomes an error too.
func DecodeStructured(doc []byte) (e ce.Event, err error) {
	if e, ok := decodePlain(doc); ok {
		if err := e.Validate(); err != nil {
			return e, errorf("cloudevent", "", "%s", validationReason(err))
		}
		return e, nil
	}
	m := jsonscan.ObjectMembers(string(doc))
	for m.Next() {
		if m.Key == "data_base64" && !jsonscan.IsNull(m.Value) && m.Value[0] != '"' {
			return e, errorf("cloudevent", "data_base64", "want a base64 string, got %s", jsonscan.Kind(m.Value))
		}
	}
	if !m.Complete() {
		return e, errorf("cloudevent", "", "not a JSON object")
	}
	defer func() {
		if r := recover(); r != nil {
			e, err = ce.Event{}, errorf("cloudevent", "", "malformed event: %v", r)
		}
	}()
	// The scan above validated doc (jsonscan is fuzzed against
	// encoding/json), so sdk-go's decoder is called directly: json.Unmarshal
	// would validate and skip the whole document twice more first.
	if err := e.UnmarshalJSON(doc); err != nil {
		return e, errorf("cloudevent", "", "%s", validationReason(err))
	}
	if e.Context != nil && e.SpecVersion() != ce.CloudEventsVersionV1 {
		e.Context = e.Context.AsV1()
	}
	if err := e.Validate(); err != nil {
		return e, errorf("cloudevent", "", "%s", validationReason(err))
	}
	return e, nil
}

// decodePlain decodes the common shape of a structured CloudEvent as
// sdk-go's decoder does, without its iterator and its maps: specversion
// "1.0" first, each member once, every attribute and extension a string of
// printable ASCII without escapes, data any JSON value (or such a string for
// a media type that is not JSON), no data_base64. sdk-go reads members after
// specversion one by one: subject "" is no subject, a datacontenttype "" is
// kept, source must parse as a URI reference and time as a timestamp,
// dataschema is what types.ParseURI makes of it, any other member is an
// extension set through SetExtension. false: sdk-go decodes it
// (FuzzDecodePlain compares the two).
func decodePlain(doc []byte) (ce.Event, bool) {
	var e ce.Event
	str := string(doc) // the attributes are pieces of this one copy
	m := jsonscan.ObjectMembers(str)
	if !m.Next() || m.Key != "specversion" || m.Value != `"1.0"` {
		return e, false
	}
	ec := &ce.EventContextV1{}
	var data string
	var hasData, hasType bool
	var seen [16]string // more members than this: sdk-go (the duplicate check stays linear)
	keys := seen[:0]
	for m.Next() {
		if len(keys) == len(seen) {
			return e, false
		}
		for _, k := range keys {
			if k == m.Key {
				return e, false // sdk-go keeps the last, or refuses
			}
		}
		keys = append(keys, m.Key)
		if m.Key == "data" {
			// sdk-go's data is the text after the colon, white space
			// included: taken here only when there is none.
			if off := m.End() - len(m.Value); off < 1 || str[off-1] != ':' {
				return e, false
			}
			if !plainNumbers(m.Value) {
				return e, false
			}
			data, hasData = m.Value, true
			continue
		}
		v, ok := plainJSONString(m.Value)
		if !ok {
			return e, false
		}
		switch m.Key {
		case "specversion", "data_base64":
			return e, false
		case "id":
			ec.ID = v
		case "type":
			ec.Type = v
		case "source":
			src := types.ParseURIRef(v)
			if src == nil {
				return e, false
			}
			ec.Source = *src
		case "subject":
			if v != "" {
				ec.Subject = &v
			}
		case "time":
			t, err := types.ParseTimestamp(v)
			if err != nil {
				return e, false
			}
			ec.Time = t
		case "datacontenttype":
			ec.DataContentType, hasType = &v, true
		case "dataschema":
			ec.DataSchema = types.ParseURI(v)
		default:
			if ec.Extensions == nil {
				ec.Extensions = make(map[string]any, 1)
			}
			if ec.SetExtension(m.Key, v) != nil {
				return e, false
			}
		}
	}
	if !m.Complete() {
		return e, false
	}
	e.Context = ec
	if hasData {
		media := ""
		if hasType {
			media, _ = ec.GetDataMediaType()
		}
		switch media {
		case "", ce.ApplicationJSON, ce.TextJSON, ce.ApplicationCloudEventsJSON, ce.ApplicationCloudEventsBatchJSON:
			e.DataEncoded = []byte(data)
		default: // the data is a string of text
			v, ok := plainJSONString(data)
			if !ok {
				return e, false
			}
			e.DataEncoded = []byte(v)
		}
	}
	return e, true
}

// plainNumbers reports whether data has no exponent and no run of more than
// 300 digits anywhere (strings included: this only sends more to sdk-go),
// so that every number in it is one sdk-go's decoder reads: it refuses one a
// float64 cannot hold (1e309: "readNumberAsString: invalid number").
func plainNumbers(data string) bool {
	run := 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c >= '0' && c <= '9':
			if run++; run > 300 {
				return false
			}
		case (c == 'e' || c == 'E') && run > 0:
			return false
		case c == '.' && run > 0:
		default:
			run = 0
		}
	}
	return true
}

// plainJSONString returns the content of the JSON string raw when it is
// printable ASCII without escapes (what any decoder reads the same).
func plainJSONString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	v := raw[1 : len(raw)-1]
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return "", false
		}
	}
	return v, true
}

// binaryMode builds a CloudEvent from ce-* attributes (SQS/SNS message
// attributes or HTTP headers, names matched case-insensitively) and a body
// that is the event's data. The data content type comes from content-type.
func binaryMode(dst []ce.Event, env *envelope, shape string, attributes map[string]string, body string) ([]ce.Event, error) {
	e := ce.New()
	for k, v := range attributes {
		lk := strings.ToLower(k)
		if lk == "content-type" {
			e.SetDataContentType(v)
			continue
		}
		name, ok := strings.CutPrefix(lk, "ce-")
		if !ok {
			continue
		}
		switch name {
		case "specversion":
			if v != ce.CloudEventsVersionV1 {
				return dst, errorf(shape, k, "unsupported CloudEvents specversion %q (want 1.0)", v)
			}
		case "id":
			e.SetID(v)
		case "source":
			e.SetSource(v)
		case "type":
			e.SetType(v)
		case "subject":
			e.SetSubject(v)
		case "dataschema":
			e.SetDataSchema(v)
		case "datacontenttype":
			e.SetDataContentType(v)
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return dst, errorf(shape, k, "not an RFC 3339 time: %q", v)
			}
			e.SetTime(t)
		default:
			if !validExtensionName(name) {
				return dst, errorf(shape, k, "extension attribute names must be 1-20 lower-case letters or digits")
			}
			e.SetExtension(name, v)
		}
	}
	e.DataEncoded = []byte(body)
	if !utf8.ValidString(body) {
		e.DataBase64 = true
	}
	if err := e.Validate(); err != nil {
		return dst, errorf(shape, "", "binary-mode CloudEvent: %s", validationReason(err))
	}
	decorate(&e, env)
	return append(dst, e), nil
}

// validExtensionName follows CloudEvents 1.0: [a-z0-9], at most 20 characters
// recommended (enforced here so names survive every binding).
func validExtensionName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
