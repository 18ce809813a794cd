package event

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

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
	// The carriage is what json.Marshal writes for a map[string]string of
	// these members (keys sorted, a later one with the same name replacing
	// an earlier), appended by hand into the one buffer the detail is built
	// in: it is on every ingested event's path.
	var members [16]carried
	c := carriageMembers(members[:0])
	c = c.set("specversion", ce.CloudEventsVersionV1).set("id", e.ID()).set("source", e.Source())
	if s := e.Subject(); s != "" {
		c = c.set("subject", s)
	}
	if t := e.Time(); !t.IsZero() {
		c = c.set("time", t.UTC().Format(time.RFC3339Nano))
	}
	if ct := e.DataContentType(); ct != "" {
		c = c.set("datacontenttype", ct)
	}
	if ds := e.DataSchema(); ds != "" {
		c = c.set("dataschema", ds)
	}
	// Extension names are unique (a map's keys): each is checked against the
	// attributes above only, so that many extensions cost linear time.
	attributes := len(c)
	for name, v := range e.Extensions() {
		if hopExtensions[name] {
			continue
		}
		if s, err := types.Format(v); err == nil {
			c = c.setAmong(attributes, name, s)
		}
	}
	data := e.Data()
	trimmed := trimSpace(unsafe.String(unsafe.SliceData(data), len(data))) // #nosec G103 -- a view of data, read here only (copied into the detail)
	// The detail without the carriage: body as "{...}" text, or the data
	// wrapped (wrapJSON, wrapText or wrapBase64).
	const wrapJSON, wrapText = "json", "text"
	var body, wrapped string
	switch {
	case len(data) == 0:
		c = c.set("detail_wraps", wrapNone)
	case isJSONMedia(e.DataMediaType()) && trimmed != "" && trimmed[0] == '{' && jsonscan.Valid(trimmed):
		body = trimmed
	case isJSONMedia(e.DataMediaType()) && jsonscan.Valid(trimmed):
		c = c.set("detail_wraps", wrapData)
		wrapped = wrapJSON
	case utf8.Valid(data):
		c = c.set("detail_wraps", wrapData)
		wrapped = wrapText
	default:
		c = c.set("detail_wraps", wrapBase64)
		wrapped = wrapBase64
	}
	slices.SortFunc(c, func(a, b carried) int { return strings.Compare(a.key, b.key) })
	b := make([]byte, 0, 64+len(DetailKey)+len(data)+c.size()+len(data)/3)
	b = append(b, `{"`+DetailKey+`":{`...)
	for i, m := range c {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.key)
		b = append(b, ':')
		b = appendString(b, m.value)
	}
	b = append(b, '}')
	switch {
	case wrapped == wrapJSON:
		b = append(b, `,"data":`...)
		b = append(b, trimmed...)
	case wrapped == wrapText:
		b = append(b, `,"data":`...)
		b = appendString(b, string(data))
	case wrapped == wrapBase64:
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, data)
		b = append(b, '"')
	case body != "":
		if rest := trimSpace(body[1:]); rest != "}" {
			b = append(b, ',')
			b = append(b, rest...)
			return string(b)
		}
	}
	return string(append(b, '}'))
}

// carried is one member of the carriage.
type carried struct{ key, value string }

type carriageMembers []carried

// set adds or replaces the member key, as assigning to a map does.
func (c carriageMembers) set(key, value string) carriageMembers {
	return c.setAmong(len(c), key, value)
}

// setAmong is set for a key that can equal only one of the first n members.
func (c carriageMembers) setAmong(n int, key, value string) carriageMembers {
	for i := range c[:n] {
		if c[i].key == key {
			c[i].value = value
			return c
		}
	}
	return append(c, carried{key, value})
}

func (c carriageMembers) size() int {
	n := 0
	for _, m := range c {
		n += len(m.key) + len(m.value) + 6
	}
	return n
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
func splitDetail(detail string) (rest []byte, carried string, ok bool) {
	if !strings.Contains(detail, `"`+DetailKey+`"`) {
		return nil, "", false
	}
	if rest, carried, ok := splitCarriageFirst(detail); ok {
		return rest, carried, true
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
		return nil, "", false
	}
	return append(b, '}'), carried, true
}

// splitCarriageFirst splits a detail of the shape EventBridgeDetail writes
// — the carriage first, the other members compact after it — without
// rebuilding them: when no later member is a carriage, none has white
// space around it and no byte of them is one appendString would write
// otherwise (a backslash, <, >, &, non-ASCII), the rebuilt detail is "{"
// and those members as they are. false: splitDetail rebuilds it.
func splitCarriageFirst(detail string) ([]byte, string, bool) {
	if !strings.HasPrefix(detail, `{"`+DetailKey+`":`) {
		return nil, "", false
	}
	m := jsonscan.ObjectMembers(detail)
	if !m.Next() || m.Key != DetailKey {
		return nil, "", false
	}
	tail := detail[m.End():]
	if tail == "}" {
		return []byte("{}"), m.Value, true
	}
	if tail == "" || tail[0] != ',' {
		return nil, "", false
	}
	body := tail[1:] // the other members and the closing brace
	if strings.Contains(body, `"`+DetailKey+`"`) {
		return nil, "", false
	}
	in := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80:
			return nil, "", false
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return nil, "", false
		}
	}
	rest := make([]byte, 0, 1+len(body))
	rest = append(rest, '{')
	return append(rest, body...), m.Value, true
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
// restores the data from the detail without it (restBytes, which becomes
// the data when the detail is the data: it is not used after).
func applyCarriage(a *attrs, c carriage, restBytes []byte) error {
	rest := unsafe.String(unsafe.SliceData(restBytes), len(restBytes)) // #nosec G103 -- a view of restBytes, read only below (values are copied out)
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
	a.data = restBytes
	a.contentType = c.contentType
	if a.contentType == "" {
		a.contentType = ContentJSON
	}
	return nil
}

// appendString appends s as a JSON string.
// It writes what json.Marshal(s) writes: a string of printable ASCII with
// nothing to escape (the common case) is copied as it is, anything else
// goes through json.Marshal (HTML escaping, \ufffd for invalid UTF-8).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
