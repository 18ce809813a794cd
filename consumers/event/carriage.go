package event

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// DetailKey is the member of an EventBridge event's detail that carries the
// CloudEvent attributes EventBridge has no field for, or overwrites.
// EventBridge assigns its own id to every PutEvents entry, sets time with
// one-second precision, and reserves sources starting with "aws."; so the
// producer's id, source, subject, time, content type, schema and extensions
// travel here, and the normalizer removes the member again: handlers see
// the producer's event, and rule patterns still match the data as
// detail.<field>. The README's "Wire contract" section shows an entry.
const DetailKey = "_cloudevent"

// Values of the carriage's detail_wraps member: how the detail holds data
// that is not a JSON object.
const (
	wrapNone   = "none"        // the event has no data
	wrapData   = "data"        // detail.data is the data (a JSON value or a string of text)
	wrapBase64 = "data_base64" // detail.data_base64 is the data, base64-encoded
)

// Extensions that describe a transport hop, not the producer's event: they
// are set again by the normalizer at every hop and never carried. The trace
// context travels in the transport's own trace header (PutEvents
// TraceHeader, SQS AWSTraceHeader, the traceparent attribute).
var hopExtensions = map[string]bool{
	ExtSQSMessageID: true, ExtSQSQueue: true, ExtSNSTopic: true, ExtSNSMessageID: true,
	ExtTraceParent: true, ExtTraceState: true,
}

// EventBridgeDetail returns the detail of the PutEvents entry that carries e:
// its data when the data is a JSON object, else {"data": ...} or
// {"data_base64": ...}, plus the DetailKey member with e's attributes.
func EventBridgeDetail(e *ce.Event) string { //nolint:revive // EventBridge is the AWS service's name, not a stutter of the package's
	c := map[string]string{"specversion": ce.CloudEventsVersionV1, "id": e.ID(), "source": e.Source()}
	if s := e.Subject(); s != "" {
		c["subject"] = s
	}
	if t := e.Time(); !t.IsZero() {
		c["time"] = t.UTC().Format(time.RFC3339Nano)
	}
	if ct := e.DataContentType(); ct != "" {
		c["datacontenttype"] = ct
	}
	if ds := e.DataSchema(); ds != "" {
		c["dataschema"] = ds
	}
	for name, v := range e.Extensions() {
		if hopExtensions[name] {
			continue
		}
		if s, err := types.Format(v); err == nil {
			c[name] = s
		}
	}
	data := e.Data()
	trimmed := trimSpace(string(data))
	var body string // the detail without the carriage, as "{...}" members text
	switch {
	case len(data) == 0:
		c["detail_wraps"] = wrapNone
	case isJSONMedia(e.DataMediaType()) && trimmed != "" && trimmed[0] == '{' && jsonscan.Valid(trimmed):
		body = trimmed
	case isJSONMedia(e.DataMediaType()) && jsonscan.Valid(trimmed):
		c["detail_wraps"] = wrapData
		body = `{"data":` + trimmed + `}`
	case utf8.Valid(data):
		c["detail_wraps"] = wrapData
		s, _ := json.Marshal(string(data))
		body = `{"data":` + string(s) + `}`
	default:
		c["detail_wraps"] = wrapBase64
		body = `{"data_base64":"` + base64.StdEncoding.EncodeToString(data) + `"}`
	}
	carried, _ := json.Marshal(c)
	head := `{"` + DetailKey + `":` + string(carried)
	if body == "" {
		return head + "}"
	}
	rest := trimSpace(body[1:])
	if rest == "}" {
		return head + "}"
	}
	return head + "," + rest
}

func isJSONMedia(media string) bool {
	if media == "" {
		return false
	}
	m, _, err := mime.ParseMediaType(media)
	if err != nil {
		m = media
	}
	return m == "application/json" || m == "text/json" || strings.HasSuffix(m, "+json")
}

// carriage is the producer's attributes read from a detail.
type carriage struct {
	id, source, subject, contentType, dataSchema, wraps string
	time                                                time.Time
	hasTime                                             bool
	ext                                                 []extension
}

// splitDetail separates the DetailKey member from the rest of detail (a
// valid JSON object). ok is false when detail has no carriage.
func splitDetail(detail string) (rest, carried string, ok bool) {
	if !strings.Contains(detail, `"`+DetailKey+`"`) {
		return detail, "", false
	}
	b := make([]byte, 0, len(detail))
	b = append(b, '{')
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
	if !ok {
		return detail, "", false
	}
	return string(append(b, '}')), carried, true
}

// readCarriage validates and reads the carriage object raw.
func readCarriage(raw string) (carriage, error) {
	const shape, path = "eventbridge", "detail." + DetailKey
	var c carriage
	if raw == "" || raw[0] != '{' {
		return c, errorf(shape, path, "want an object, got %s", jsonscan.Kind(raw))
	}
	m := jsonscan.ObjectMembers(raw)
	for m.Next() {
		v, ok := jsonscan.String(m.Value)
		if !ok {
			return c, errorf(shape, path+"."+m.Key, "want a string, got %s", jsonscan.Kind(m.Value))
		}
		switch m.Key {
		case "specversion":
			if v != ce.CloudEventsVersionV1 {
				return c, errorf(shape, path+".specversion", "unsupported CloudEvents specversion %q (want 1.0)", v)
			}
		case "id":
			c.id = v
		case "source":
			c.source = v
		case "subject":
			c.subject = v
		case "datacontenttype":
			c.contentType = v
		case "dataschema":
			c.dataSchema = v
		case "detail_wraps":
			if v != wrapNone && v != wrapData && v != wrapBase64 {
				return c, errorf(shape, path+".detail_wraps", "want %q, %q or %q, got %q", wrapNone, wrapData, wrapBase64, v)
			}
			c.wraps = v
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return c, errorf(shape, path+".time", "not an RFC 3339 time: %q", v)
			}
			c.time, c.hasTime = t, true
		case "type", "data", "data_base64":
			return c, errorf(shape, path+"."+m.Key, "not carried here (type is detail-type, data is the detail)")
		default:
			if !validExtensionName(m.Key) {
				return c, errorf(shape, path+"."+m.Key, "extension attribute names must be 1-20 lower-case letters or digits")
			}
			c.ext = append(c.ext, extension{m.Key, v})
		}
	}
	if !m.Complete() {
		return c, errorf(shape, path, "not a JSON object")
	}
	if strings.TrimSpace(c.id) == "" {
		return c, errorf(shape, path+".id", "missing")
	}
	if strings.TrimSpace(c.source) == "" {
		return c, errorf(shape, path+".source", "missing")
	}
	return c, nil
}

// applyCarriage sets the producer's attributes on a from the carriage and
// restores the data from the detail without it.
func applyCarriage(a *attrs, c carriage, rest string) error {
	const shape, path = "eventbridge", "detail"
	a.id, a.source = c.id, c.source
	a.subject = c.subject
	if c.hasTime {
		a.time = c.time
	}
	a.dataSchema = c.dataSchema
	a.ext = c.ext
	switch c.wraps {
	case wrapNone:
		a.data, a.contentType = nil, c.contentType
		return nil
	case wrapData, wrapBase64:
		var v string
		m := jsonscan.ObjectMembers(rest)
		for m.Next() {
			if m.Key == c.wraps {
				v = m.Value
			}
		}
		if v == "" {
			return errorf(shape, path+"."+c.wraps, "missing (the carriage says the detail wraps the data)")
		}
		a.contentType = c.contentType
		if c.wraps == wrapBase64 {
			s, ok := jsonscan.String(v)
			b, err := base64.StdEncoding.DecodeString(s)
			if !ok || err != nil {
				return errorf(shape, path+".data_base64", "want a base64 string")
			}
			a.data, a.base64 = b, true
			return nil
		}
		if s, ok := jsonscan.String(v); ok && !isJSONMedia(c.contentType) {
			a.data = []byte(s)
		} else {
			a.data = []byte(v)
		}
		if a.contentType == "" {
			a.contentType = ContentJSON
		}
		return nil
	}
	a.data = []byte(rest)
	a.contentType = c.contentType
	if a.contentType == "" {
		a.contentType = ContentJSON
	}
	return nil
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// Outgoing returns a copy of e for the next hop (a structured CloudEvent
// published to SNS or posted over HTTP): without the extensions the
// normalizer set for the hop it arrived by (sqsmessageid, snstopic, ...)
// and without the trace context, which travels in the next transport's own
// trace header. The next hop's normalizer sets its own.
func Outgoing(e *ce.Event) ce.Event {
	out := e.Clone()
	for name := range e.Extensions() {
		if hopExtensions[name] {
			_ = out.Context.SetExtension(name, nil)
		}
	}
	return out
}
