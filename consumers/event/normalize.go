package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// DefaultFallbackType is the CloudEvents type given to bodies of no known shape.
const DefaultFallbackType = "com.amazonaws.sqs.message"

// DefaultFallbackSource is the source of a fallback event when the message
// carries no queue ARN.
const DefaultFallbackSource = "urn:eventplane:unknown-queue"

// maxDepth bounds envelope nesting (SQS -> SNS -> S3 is three levels).
const maxDepth = 8

// Normalizer turns Messages into CloudEvents. The zero value is ready to use;
// a Normalizer is safe for concurrent use.
type Normalizer struct {
	// FallbackType is the type of events made from bodies of no known shape
	// (default DefaultFallbackType).
	FallbackType string
	// FallbackSource is their source when the message has no QueueARN
	// (default DefaultFallbackSource).
	FallbackSource string
}

// Normalize appends the CloudEvents carried by m to dst and returns it. A
// message that is platform control traffic yields no events and a non-nil
// Control. Malformed input yields an *Error; dst is then returned unchanged.
func (n *Normalizer) Normalize(dst []ce.Event, m Message) ([]ce.Event, *Control, error) {
	var env envelope
	env.add(ExtSQSMessageID, m.MessageID)
	env.add(ExtSQSQueue, m.QueueARN)
	traceFromAttributes(&env, m.Attributes, m.MessageAttributes)
	start := len(dst)
	out, ctl, err := n.message(dst, &env, m)
	if err != nil {
		return dst[:start], nil, err
	}
	return out, ctl, nil
}

// message normalizes one transport message: binary-mode CloudEvent attributes
// win, then the body's content decides.
func (n *Normalizer) message(dst []ce.Event, env *envelope, m Message) ([]ce.Event, *Control, error) {
	if _, ok := m.MessageAttributes["ce-specversion"]; ok {
		out, err := binaryMode(dst, env, "sqs", m.MessageAttributes, m.Body)
		return out, nil, err
	}
	body := strings.TrimSpace(m.Body)
	if looksLikeJSON(body) {
		if !gjson.Valid(body) {
			return dst, nil, invalidJSON("sqs", "body", body)
		}
		if out, ctl, ok, err := n.document(dst, env, body); ok || err != nil {
			return out, ctl, err
		}
	}
	out, err := n.fallback(dst, env, m, body)
	return out, nil, err
}

// top holds the top-level members of a JSON object that decide its shape.
type top struct {
	specversion, snsType, topicArn, detailType, source, records gjson.Result
	s3Event, requestContext, httpMethod, routeKey                gjson.Result
}

func scanTop(doc string) (t top) {
	gjson.Parse(doc).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "specversion":
			t.specversion = v
		case "Type":
			t.snsType = v
		case "TopicArn":
			t.topicArn = v
		case "detail-type":
			t.detailType = v
		case "source":
			t.source = v
		case "Records":
			t.records = v
		case "Event":
			t.s3Event = v
		case "requestContext":
			t.requestContext = v
		case "httpMethod":
			t.httpMethod = v
		case "routeKey":
			t.routeKey = v
		}
		return true
	})
	return t
}

// document recognises a valid JSON document by content. ok is false when the
// document has no known shape.
func (n *Normalizer) document(dst []ce.Event, env *envelope, doc string) (out []ce.Event, ctl *Control, ok bool, err error) {
	if doc == "" || doc[0] != '{' {
		return dst, nil, false, nil
	}
	if env.depth++; env.depth > maxDepth {
		return dst, nil, true, errorf("json", "", "envelopes nested deeper than %d levels", maxDepth)
	}
	t := scanTop(doc)
	switch {
	case t.specversion.Exists():
		out, err = structured(dst, env, doc)
	case t.topicArn.Exists() && t.snsType.Type == gjson.String:
		out, ctl, err = n.sns(dst, env, doc)
	case t.detailType.Exists() && t.source.Exists():
		out, err = eventBridge(dst, env, doc)
	case t.records.IsArray():
		out, ctl, err = n.records(dst, env, t.records)
	case t.s3Event.Str == "s3:TestEvent":
		return dst, &Control{Kind: S3TestEvent, Source: gjson.Get(doc, "Bucket").Str}, true, nil
	case t.requestContext.IsObject() && (t.httpMethod.Exists() || t.routeKey.Exists()):
		out, err = apiGateway(dst, env, doc, t.requestContext)
	default:
		return dst, nil, false, nil
	}
	return out, ctl, true, err
}

// fallback wraps a body of no known shape: id = message id, source = queue,
// time = SentTimestamp, data = the body as received.
func (n *Normalizer) fallback(dst []ce.Event, env *envelope, m Message, body string) ([]ce.Event, error) {
	a := attrs{id: m.MessageID, source: m.QueueARN, typ: n.FallbackType}
	if a.typ == "" {
		a.typ = DefaultFallbackType
	}
	if a.source == "" {
		a.source = n.FallbackSource
		if a.source == "" {
			a.source = DefaultFallbackSource
		}
	}
	if a.id == "" {
		// No transport id (e.g. a body given on the command line): derive a
		// stable one from the content so that duplicates stay duplicates.
		sum := sha256.Sum256([]byte(m.Body))
		a.id = "sha256:" + hex.EncodeToString(sum[:16])
	}
	if ts, ok := m.Attributes["SentTimestamp"]; ok {
		t, err := epochMillis(ts)
		if err != nil {
			return dst, errorf("sqs", "Attributes.SentTimestamp", "%v", err)
		}
		a.time = t
	}
	a.data = []byte(m.Body)
	switch {
	case looksLikeJSON(body):
		a.contentType = ContentJSON
	case utf8.ValidString(m.Body):
		a.contentType = ContentText
	default:
		a.contentType, a.base64 = ContentBinary, true
	}
	// The envelope identity is the event identity here: do not repeat it.
	env.n = 0
	return build(dst, env, "sqs", a)
}

func looksLikeJSON(s string) bool {
	return s != "" && (s[0] == '{' || s[0] == '[')
}

// invalidJSON reports where a JSON document breaks, using encoding/json's
// error for the offset (only on this failure path).
func invalidJSON(shape, path, doc string) *Error {
	var v json.RawMessage
	err := json.Unmarshal([]byte(doc), &v)
	if se, ok := err.(*json.SyntaxError); ok {
		return errorf(shape, path, "invalid JSON at byte %d: %v", se.Offset, se)
	}
	if err != nil {
		return errorf(shape, path, "invalid JSON: %v", err)
	}
	return errorf(shape, path, "invalid JSON")
}

func epochMillis(s string) (time.Time, error) {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms < 0 {
		return time.Time{}, &Error{Shape: "sqs", Reason: "not a non-negative epoch in milliseconds: " + strconv.Quote(s)}
	}
	return time.UnixMilli(ms).UTC(), nil
}

// timestamp parses an RFC 3339 time of an AWS envelope.
func timestamp(shape, path string, v gjson.Result) (time.Time, error) {
	if !v.Exists() {
		return time.Time{}, nil
	}
	if v.Type != gjson.String {
		return time.Time{}, errorf(shape, path, "want an RFC 3339 time string, got %s", kind(v))
	}
	t, err := time.Parse(time.RFC3339Nano, v.Str)
	if err != nil {
		return time.Time{}, errorf(shape, path, "not an RFC 3339 time: %q", v.Str)
	}
	return t, nil
}

// str returns a required string member.
func str(shape, path string, v gjson.Result) (string, error) {
	if !v.Exists() {
		return "", errorf(shape, path, "missing")
	}
	if v.Type != gjson.String {
		return "", errorf(shape, path, "want a string, got %s", kind(v))
	}
	if strings.TrimSpace(v.Str) == "" {
		return "", errorf(shape, path, "empty")
	}
	return v.Str, nil
}

// optStr returns an optional string member ("" when absent or null).
func optStr(shape, path string, v gjson.Result) (string, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return "", nil
	}
	if v.Type != gjson.String {
		return "", errorf(shape, path, "want a string, got %s", kind(v))
	}
	return v.Str, nil
}

func kind(v gjson.Result) string {
	switch v.Type {
	case gjson.Null:
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if v.IsArray() {
		return "an array"
	}
	return "an object"
}
