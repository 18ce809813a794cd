package event

import (
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
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
