package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
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
	body := trimSpace(m.Body)
	switch {
	case body != "" && body[0] == '{':
		f, valid := scanFields(body)
		if !valid {
			return dst, nil, invalidJSON("sqs", body)
		}
		if out, ctl, ok, err := n.document(dst, env, body, &f); ok || err != nil {
			return out, ctl, err
		}
	case body != "" && body[0] == '[':
		if !jsonscan.Valid(body) {
			return dst, nil, invalidJSON("sqs", body)
		}
	}
	out, err := n.fallback(dst, env, m, body)
	return out, nil, err
}

// fields holds the raw values of the top-level members of a JSON object that
// decide its shape and feed the SNS and EventBridge mappings ("" = absent).
type fields struct {
	specversion, records, event, requestContext, httpMethod, routeKey string
	// SNS
	snsType, topicArn, messageID, message, subject, timestamp, subscribeURL, messageAttributes string
	// EventBridge
	id, source, detailType, time, resources, detail string
	// S3 test event
	bucket string
}

// scanFields reads the members of the object doc; valid is false if doc is
// not a well-formed JSON object.
func scanFields(doc string) (f fields, valid bool) {
	m := jsonscan.ObjectMembers(doc)
	for m.Next() {
		switch m.Key {
		case "specversion":
			f.specversion = m.Value
		case "Records":
			f.records = m.Value
		case "Event":
			f.event = m.Value
		case "requestContext":
			f.requestContext = m.Value
		case "httpMethod":
			f.httpMethod = m.Value
		case "routeKey":
			f.routeKey = m.Value
		case "Type":
			f.snsType = m.Value
		case "TopicArn":
			f.topicArn = m.Value
		case "MessageId":
			f.messageID = m.Value
		case "Message":
			f.message = m.Value
		case "Subject":
			f.subject = m.Value
		case "Timestamp":
			f.timestamp = m.Value
		case "SubscribeURL":
			f.subscribeURL = m.Value
		case "MessageAttributes":
			f.messageAttributes = m.Value
		case "id":
			f.id = m.Value
		case "source":
			f.source = m.Value
		case "detail-type":
			f.detailType = m.Value
		case "time":
			f.time = m.Value
		case "resources":
			f.resources = m.Value
		case "detail":
			f.detail = m.Value
		case "Bucket":
			f.bucket = m.Value
		}
	}
	return f, m.Complete()
}

// document recognises a valid JSON object doc, whose members are f, by
// content. ok is false when the document has no known shape.
func (n *Normalizer) document(dst []ce.Event, env *envelope, doc string, f *fields) (out []ce.Event, ctl *Control, ok bool, err error) {
	if env.depth++; env.depth > maxDepth {
		return dst, nil, true, errorf("json", "", "envelopes nested deeper than %d levels", maxDepth)
	}
	switch {
	case f.specversion != "":
		out, err = structured(dst, env, doc)
	case f.topicArn != "" && f.snsType != "" && f.snsType[0] == '"':
		out, ctl, err = n.sns(dst, env, f)
	case f.detailType != "" && f.source != "":
		out, err = eventBridge(dst, env, f)
	case f.records != "" && f.records[0] == '[':
		out, ctl, err = n.records(dst, env, f.records)
	case f.event == `"s3:TestEvent"`:
		bucket, _ := jsonscan.String(f.bucket)
		return dst, &Control{Kind: S3TestEvent, Source: bucket}, true, nil
	case f.requestContext != "" && f.requestContext[0] == '{' && (f.httpMethod != "" || f.routeKey != ""):
		out, err = apiGateway(dst, env, doc, f.requestContext)
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

// invalidJSON reports where a message body breaks as JSON, using
// encoding/json's error for the offset (only on this failure path).
func invalidJSON(shape, doc string) *Error {
	const path = "body"
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

// timestamp parses an optional RFC 3339 time of an AWS envelope.
func timestamp(shape, path, raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	v, ok := jsonscan.String(raw)
	if !ok {
		return time.Time{}, errorf(shape, path, "want an RFC 3339 time string, got %s", jsonscan.Kind(raw))
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errorf(shape, path, "not an RFC 3339 time: %q", v)
	}
	return t, nil
}

// str returns a required, non-blank string member.
func str(shape, path, raw string) (string, error) {
	if raw == "" {
		return "", errorf(shape, path, "missing")
	}
	v, ok := jsonscan.String(raw)
	if !ok {
		return "", errorf(shape, path, "want a string, got %s", jsonscan.Kind(raw))
	}
	if strings.TrimSpace(v) == "" {
		return "", errorf(shape, path, "empty")
	}
	return v, nil
}

// optStr returns an optional string member ("" when absent or null).
func optStr(shape, path, raw string) (string, error) {
	if jsonscan.IsNull(raw) {
		return "", nil
	}
	v, ok := jsonscan.String(raw)
	if !ok {
		return "", errorf(shape, path, "want a string, got %s", jsonscan.Kind(raw))
	}
	return v, nil
}
