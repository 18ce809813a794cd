package event

import (
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"strconv"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// records decodes a Records[] document: an S3 event notification, or a Lambda
// SQS or SNS event. Every record is decoded in its own copy of the envelope.
func (n *Normalizer) records(dst []ce.Event, env *envelope, recs gjson.Result) ([]ce.Event, *Control, error) {
	start := len(dst)
	var ctl *Control
	count := 0
	var err error
	recs.ForEach(func(_, rec gjson.Result) bool {
		path := "Records[" + strconv.Itoa(count) + "]"
		count++
		if !rec.IsObject() {
			err = errorf("records", path, "want an object, got %s", jsonscan.Kind(rec.Raw))
			return false
		}
		source := rec.Get("eventSource")
		if !source.Exists() {
			source = rec.Get("EventSource") // Lambda SNS records
		}
		child := *env
		var c *Control
		switch source.Str {
		case "aws:s3":
			dst, err = s3Record(dst, &child, rec)
		case "aws:sqs":
			dst, c, err = n.sqsRecord(dst, &child, rec)
		case "aws:sns":
			sns := rec.Get("Sns")
			if !sns.IsObject() {
				err = errorf("lambda-sns", "Sns", "want an object, got %s", jsonscan.Kind(sns.Raw))
				break
			}
			f, _ := scanFields(sns.Raw) // valid: part of a validated document
			dst, c, err = n.sns(dst, &child, &f)
			err = at("Sns", err)
		default:
			err = errorf("records", "eventSource", "unknown event source %q (want aws:s3, aws:sqs or aws:sns)", source.Str)
		}
		if err != nil {
			err = at(path, err)
			return false
		}
		if c != nil {
			ctl = c
		}
		return true
	})
	if err != nil {
		return dst[:start], nil, err
	}
	if count == 0 {
		return dst, nil, errorf("records", "Records", "empty")
	}
	return dst, ctl, nil
}

// s3Record maps one S3 event notification record (CloudEvents AWS S3 adapter):
// id = x-amz-request-id "." x-amz-id-2, source = eventSource "." awsRegion "."
// bucket, type = "com.amazonaws.s3." eventName, subject = key, time = eventTime.
func s3Record(dst []ce.Event, env *envelope, rec gjson.Result) ([]ce.Event, error) {
	const shape = "s3"
	get := func(path string) (string, error) { return str(shape, path, rec.Get(path).Raw) }
	region, err := get("awsRegion")
	if err != nil {
		return dst, err
	}
	name, err := get("eventName")
	if err != nil {
		return dst, err
	}
	reqID, err := get("responseElements.x-amz-request-id")
	if err != nil {
		return dst, err
	}
	id2, err := get("responseElements.x-amz-id-2")
	if err != nil {
		return dst, err
	}
	bucket, err := get("s3.bucket.name")
	if err != nil {
		return dst, err
	}
	key, err := get("s3.object.key")
	if err != nil {
		return dst, err
	}
	t, err := timestamp(shape, "eventTime", rec.Get("eventTime").Raw)
	if err != nil {
		return dst, err
	}
	return build(dst, env, shape, attrs{
		id:          reqID + "." + id2,
		source:      "aws:s3." + region + "." + bucket,
		typ:         "com.amazonaws.s3." + name,
		subject:     key,
		time:        t,
		data:        []byte(rec.Raw),
		contentType: ContentJSON,
	})
}

// sqsRecord decodes one record of a Lambda SQS event into a Message and
// normalizes it like a message received from the queue.
func (n *Normalizer) sqsRecord(dst []ce.Event, env *envelope, rec gjson.Result) ([]ce.Event, *Control, error) {
	const shape = "lambda-sqs"
	var m Message
	var err error
	if m.MessageID, err = str(shape, "messageId", rec.Get("messageId").Raw); err != nil {
		return dst, nil, err
	}
	body := rec.Get("body")
	if body.Type != gjson.String {
		return dst, nil, errorf(shape, "body", "want a string, got %s", jsonscan.Kind(body.Raw))
	}
	m.Body = body.Str
	if m.QueueARN, err = optStr(shape, "eventSourceARN", rec.Get("eventSourceARN").Raw); err != nil {
		return dst, nil, err
	}
	if a := rec.Get("attributes"); a.IsObject() {
		m.Attributes = make(map[string]string)
		a.ForEach(func(k, v gjson.Result) bool {
			if v.Type == gjson.String {
				m.Attributes[k.Str] = v.Str
			}
			return true
		})
	}
	if a := rec.Get("messageAttributes"); a.IsObject() {
		a.ForEach(func(k, v gjson.Result) bool {
			sv := v.Get("stringValue")
			if sv.Type != gjson.String {
				return true // binary attributes carry no CloudEvents attributes
			}
			if m.MessageAttributes == nil {
				m.MessageAttributes = make(map[string]string)
			}
			m.MessageAttributes[k.Str] = sv.Str
			return true
		})
	}
	env.add(ExtSQSMessageID, m.MessageID)
	env.add(ExtSQSQueue, m.QueueARN)
	traceFromAttributes(env, m.Attributes, m.MessageAttributes)
	out, ctl, err := n.message(dst, env, m)
	return out, ctl, within("body", err)
}
