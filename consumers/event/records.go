package event

import (
	"strconv"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// records decodes a Records[] document (recs, a validated JSON array): an S3
// event notification, or a Lambda SQS or SNS event. Every record is decoded
// in its own copy of the envelope.
func (n *Normalizer) records(dst []ce.Event, env *envelope, recs string) ([]ce.Event, *Control, error) {
	start := len(dst)
	var ctl *Control
	count := 0
	elems := jsonscan.ArrayElements(recs)
	for elems.Next() {
		rec := elems.Value
		path := "Records[" + strconv.Itoa(count) + "]"
		count++
		var err error
		if rec[0] != '{' {
			err = errorf("records", path, "want an object, got %s", jsonscan.Kind(rec))
			return dst[:start], nil, err
		}
		source := member(rec, "eventSource")
		if source == "" {
			source = member(rec, "EventSource") // Lambda SNS records
		}
		child := *env
		var c *Control
		switch src := stringOf(source); src {
		case "aws:s3":
			dst, err = s3Record(dst, &child, rec)
		case "aws:sqs":
			dst, c, err = n.sqsRecord(dst, &child, rec)
		case "aws:sns":
			sns := member(rec, "Sns")
			if sns == "" || sns[0] != '{' {
				err = errorf("lambda-sns", "Sns", "want an object, got %s", jsonscan.Kind(sns))
				break
			}
			f, _ := scanFields(sns) // valid: part of a validated document
			dst, c, err = n.sns(dst, &child, &f)
			err = at("Sns", err)
		default:
			err = errorf("records", "eventSource", "unknown event source %q (want aws:s3, aws:sqs or aws:sns)", src)
		}
		if err != nil {
			return dst[:start], nil, at(path, err)
		}
		if c != nil {
			ctl = c
		}
	}
	if count == 0 {
		return dst, nil, errorf("records", "Records", "empty")
	}
	return dst, ctl, nil
}

// s3Record maps one S3 event notification record (CloudEvents AWS S3 adapter):
// id = x-amz-request-id "." x-amz-id-2, source = eventSource "." awsRegion "."
// bucket, type = "com.amazonaws.s3." eventName, subject = key, time = eventTime.
func s3Record(dst []ce.Event, env *envelope, rec string) ([]ce.Event, error) {
	const shape = "s3"
	// One pass, the first of each member counting; a responseElements or s3
	// member without the nested value leaves it to a later one of that name
	// (as the dotted gjson paths read before did: memberPath).
	var rawRegion, rawName, rawTime, rawReqID, rawID2, rawBucket, rawKey string
	members := jsonscan.ObjectMembers(rec)
	for members.Next() {
		switch v := members.Value; members.Key {
		case "awsRegion":
			first(&rawRegion, v)
		case "eventName":
			first(&rawName, v)
		case "eventTime":
			first(&rawTime, v)
		case "responseElements":
			if rawReqID == "" {
				rawReqID = member(v, "x-amz-request-id")
			}
			if rawID2 == "" {
				rawID2 = member(v, "x-amz-id-2")
			}
		case "s3":
			if rawBucket == "" {
				rawBucket = memberPath(v, "bucket", "name")
			}
			if rawKey == "" {
				rawKey = memberPath(v, "object", "key")
			}
		}
	}
	region, err := str(shape, "awsRegion", rawRegion)
	if err != nil {
		return dst, err
	}
	name, err := str(shape, "eventName", rawName)
	if err != nil {
		return dst, err
	}
	reqID, err := str(shape, "responseElements.x-amz-request-id", rawReqID)
	if err != nil {
		return dst, err
	}
	id2, err := str(shape, "responseElements.x-amz-id-2", rawID2)
	if err != nil {
		return dst, err
	}
	bucket, err := str(shape, "s3.bucket.name", rawBucket)
	if err != nil {
		return dst, err
	}
	key, err := str(shape, "s3.object.key", rawKey)
	if err != nil {
		return dst, err
	}
	t, err := timestamp(shape, "eventTime", rawTime)
	if err != nil {
		return dst, err
	}
	return build(dst, env, shape, attrs{
		id:          reqID + "." + id2,
		source:      "aws:s3." + region + "." + bucket,
		typ:         "com.amazonaws.s3." + name,
		subject:     key,
		time:        t,
		data:        []byte(rec),
		contentType: ContentJSON,
	})
}

// sqsRecord decodes one record of a Lambda SQS event into a Message and
// normalizes it like a message received from the queue.
func (n *Normalizer) sqsRecord(dst []ce.Event, env *envelope, rec string) ([]ce.Event, *Control, error) {
	const shape = "lambda-sqs"
	var messageID, body, arn, attributes, messageAttributes string
	members := jsonscan.ObjectMembers(rec)
	for members.Next() { // the first of each counts
		switch members.Key {
		case "messageId":
			first(&messageID, members.Value)
		case "body":
			first(&body, members.Value)
		case "eventSourceARN":
			first(&arn, members.Value)
		case "attributes":
			first(&attributes, members.Value)
		case "messageAttributes":
			first(&messageAttributes, members.Value)
		}
	}
	var m Message
	var err error
	if m.MessageID, err = str(shape, "messageId", messageID); err != nil {
		return dst, nil, err
	}
	var ok bool
	if m.Body, ok = jsonscan.String(body); !ok {
		return dst, nil, errorf(shape, "body", "want a string, got %s", jsonscan.Kind(body))
	}
	if m.QueueARN, err = optStr(shape, "eventSourceARN", arn); err != nil {
		return dst, nil, err
	}
	if attributes != "" && attributes[0] == '{' {
		m.Attributes = make(map[string]string)
		a := jsonscan.ObjectMembers(attributes)
		for a.Next() {
			if v, ok := jsonscan.String(a.Value); ok {
				m.Attributes[a.Key] = v
			}
		}
	}
	if messageAttributes != "" && messageAttributes[0] == '{' {
		a := jsonscan.ObjectMembers(messageAttributes)
		for a.Next() {
			sv, ok := jsonscan.String(member(a.Value, "stringValue"))
			if !ok {
				continue // binary attributes carry no CloudEvents attributes
			}
			if m.MessageAttributes == nil {
				m.MessageAttributes = make(map[string]string)
			}
			m.MessageAttributes[a.Key] = sv
		}
	}
	env.add(ExtSQSMessageID, m.MessageID)
	env.add(ExtSQSQueue, m.QueueARN)
	traceFromAttributes(env, m.Attributes, m.MessageAttributes)
	out, ctl, err := n.message(dst, env, m)
	return out, ctl, within("body", err)
}
