package event

// The gjson walks that jsonscan replaced in records.go, apigateway.go,
// defect.go and normalize.go (and the sns method that dispatches back into
// them), copied verbatim from the last commit that had them with only their
// names prefixed "gjson". They are the reference the differential tests in
// jsonwalk_test.go hold the jsonscan walks to; nothing else calls them.

import (
	"encoding/base64"
	"mime"
	"strconv"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// gjsonNormalize appends the CloudEvents carried by m to dst and returns it. A
// message that is platform control traffic yields no events and a non-nil
// Control. Malformed input yields an *Error; dst is then returned unchanged.
func (n *Normalizer) gjsonNormalize(dst []ce.Event, m Message) ([]ce.Event, *Control, error) {
	var env envelope
	env.add(ExtSQSMessageID, m.MessageID)
	env.add(ExtSQSQueue, m.QueueARN)
	traceFromAttributes(&env, m.Attributes, m.MessageAttributes)
	start := len(dst)
	out, ctl, err := n.gjsonMessage(dst, &env, m)
	if err != nil {
		return dst[:start], nil, err
	}
	return out, ctl, nil
}

// gjsonMessage normalizes one transport message: binary-mode CloudEvent attributes
// win, then the body's content decides.
func (n *Normalizer) gjsonMessage(dst []ce.Event, env *envelope, m Message) ([]ce.Event, *Control, error) {
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
		if out, ctl, ok, err := n.gjsonDocument(dst, env, body, &f); ok || err != nil {
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

// gjsonDocument recognises a valid JSON object doc, whose members are f, by
// content. ok is false when the document has no known shape.
func (n *Normalizer) gjsonDocument(dst []ce.Event, env *envelope, doc string, f *fields) (out []ce.Event, ctl *Control, ok bool, err error) {
	if env.depth++; env.depth > maxDepth {
		return dst, nil, true, errorf("json", "", "envelopes nested deeper than %d levels", maxDepth)
	}
	switch {
	case f.specversion != "":
		out, err = structured(dst, env, doc)
	case f.topicArn != "" && f.snsType != "" && f.snsType[0] == '"':
		out, ctl, err = n.gjsonSNS(dst, env, f)
	case f.detailType != "" && f.source != "":
		out, err = eventBridge(dst, env, f)
	case f.records != "" && f.records[0] == '[':
		out, ctl, err = n.gjsonRecords(dst, env, gjson.Parse(f.records))
	case f.event == `"s3:TestEvent"`:
		bucket, _ := jsonscan.String(f.bucket)
		return dst, &Control{Kind: S3TestEvent, Source: bucket}, true, nil
	case f.requestContext != "" && f.requestContext[0] == '{' && (f.httpMethod != "" || f.routeKey != ""):
		out, err = gjsonAPIGateway(dst, env, doc, gjson.Parse(f.requestContext))
	default:
		return dst, nil, false, nil
	}
	return out, ctl, true, err
}

// gjsonSNS decodes an SNS message (the HTTP/SQS envelope, or the Sns member of a
// Lambda SNS record, which has the same members).
func (n *Normalizer) gjsonSNS(dst []ce.Event, env *envelope, f *fields) ([]ce.Event, *Control, error) {
	topicArn, err := str("sns", "TopicArn", f.topicArn)
	if err != nil {
		return dst, nil, err
	}
	typ, _ := jsonscan.String(f.snsType)
	switch typ {
	case "Notification":
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		url, _ := jsonscan.String(f.subscribeURL)
		kind := SNSSubscriptionConfirmation
		if typ == "UnsubscribeConfirmation" {
			kind = SNSUnsubscribeConfirmation
		}
		return dst, &Control{Kind: kind, Source: topicArn, URL: url}, nil
	default:
		return dst, nil, errorf("sns", "Type", "unknown SNS message type %q (want Notification, SubscriptionConfirmation or UnsubscribeConfirmation)", typ)
	}
	a := attrs{source: topicArn, typ: "com.amazonaws.sns.Notification"}
	if a.id, err = str("sns", "MessageId", f.messageID); err != nil {
		return dst, nil, err
	}
	message, ok := jsonscan.String(f.message)
	if !ok {
		return dst, nil, errorf("sns", "Message", "want a string, got %s", jsonscan.Kind(f.message))
	}
	attrMap, err := gjsonSNSAttributes(f.messageAttributes)
	if err != nil {
		return dst, nil, err
	}
	mark := env.n
	env.add(ExtSNSTopic, topicArn)
	env.add(ExtSNSMessageID, a.id)
	traceFromAttributes(env, nil, attrMap)
	if _, ok := attrMap["ce-specversion"]; ok {
		out, err := binaryMode(dst, env, "sns", attrMap, message)
		return out, nil, within("Message", err)
	}
	body := trimSpace(message)
	isJSON := false
	switch {
	case body != "" && body[0] == '{':
		var inner fields
		if inner, isJSON = scanFields(body); isJSON {
			out, ctl, ok, err := n.gjsonDocument(dst, env, body, &inner)
			if err != nil {
				return dst, nil, within("Message", err)
			}
			if ok {
				return out, ctl, nil
			}
		}
	case body != "" && body[0] == '[':
		isJSON = jsonscan.Valid(body)
	}
	// The notification itself is the event: its identity is id and source.
	env.n = mark
	if a.subject, err = optStr("sns", "Subject", f.subject); err != nil {
		return dst, nil, err
	}
	if a.time, err = timestamp("sns", "Timestamp", f.timestamp); err != nil {
		return dst, nil, err
	}
	a.data = []byte(message)
	a.contentType = ContentText
	if isJSON {
		a.contentType = ContentJSON
	}
	out, err := build(dst, env, "sns", a)
	return out, nil, err
}

// gjsonRecords decodes a Records[] document: an S3 event notification, or a Lambda
// SQS or SNS event. Every record is decoded in its own copy of the envelope.
func (n *Normalizer) gjsonRecords(dst []ce.Event, env *envelope, recs gjson.Result) ([]ce.Event, *Control, error) {
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
			dst, err = gjsonS3Record(dst, &child, rec)
		case "aws:sqs":
			dst, c, err = n.gjsonSQSRecord(dst, &child, rec)
		case "aws:sns":
			sns := rec.Get("Sns")
			if !sns.IsObject() {
				err = errorf("lambda-sns", "Sns", "want an object, got %s", jsonscan.Kind(sns.Raw))
				break
			}
			f, _ := scanFields(sns.Raw) // valid: part of a validated document
			dst, c, err = n.gjsonSNS(dst, &child, &f)
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

// gjsonS3Record maps one S3 event notification record (CloudEvents AWS S3 adapter):
// id = x-amz-request-id "." x-amz-id-2, source = eventSource "." awsRegion "."
// bucket, type = "com.amazonaws.s3." eventName, subject = key, time = eventTime.
func gjsonS3Record(dst []ce.Event, env *envelope, rec gjson.Result) ([]ce.Event, error) {
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

// gjsonSQSRecord decodes one record of a Lambda SQS event into a Message and
// normalizes it like a message received from the queue.
func (n *Normalizer) gjsonSQSRecord(dst []ce.Event, env *envelope, rec gjson.Result) ([]ce.Event, *Control, error) {
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
	out, ctl, err := n.gjsonMessage(dst, env, m)
	return out, ctl, within("body", err)
}

// gjsonAPIGateway decodes an API Gateway proxy request (REST v1 or HTTP API v2)
// following the CloudEvents HTTP binding: a batch, a structured event or a
// binary-mode event; any other request becomes one request event.
func gjsonAPIGateway(dst []ce.Event, env *envelope, doc string, rc gjson.Result) ([]ce.Event, error) {
	const shape = "apigateway"
	req := gjson.Parse(doc)
	headers := map[string]string{}
	if h := req.Get("headers"); h.IsObject() {
		h.ForEach(func(k, v gjson.Result) bool {
			if v.Type == gjson.String {
				headers[strings.ToLower(k.Str)] = v.Str
			}
			return true
		})
	}
	body, err := gjsonRequestBody(req)
	if err != nil {
		return dst, err
	}
	contentType := strings.TrimSpace(headers["content-type"])
	var media string
	if contentType != "" {
		if media, _, err = mime.ParseMediaType(contentType); err != nil {
			return dst, errorf(shape, "headers.content-type", "%q is not a media type: %v", contentType, err)
		}
	}
	switch {
	case media == MediaCloudEventBatch:
		batch := gjson.Parse(body)
		if !jsonscan.Valid(body) || !batch.IsArray() {
			return dst, errorf(shape, "body", "a %s body must be a JSON array of CloudEvents", MediaCloudEventBatch)
		}
		start, i := len(dst), 0
		batch.ForEach(func(_, item gjson.Result) bool {
			if !item.IsObject() {
				err = errorf(shape, "body["+strconv.Itoa(i)+"]", "want a CloudEvent object, got %s", jsonscan.Kind(item.Raw))
				return false
			}
			child := *env
			dst, err = structured(dst, &child, item.Raw)
			err = within("body["+strconv.Itoa(i)+"]", err)
			i++
			return err == nil
		})
		if err != nil {
			return dst[:start], err
		}
		if i == 0 {
			return dst, errorf(shape, "body", "empty CloudEvents batch")
		}
		return dst, nil
	case media == MediaCloudEvent:
		if !jsonscan.Valid(body) {
			return dst, invalidJSON(shape, body)
		}
		out, err := structured(dst, env, body)
		return out, within("body", err)
	case headers["ce-specversion"] != "":
		out, err := binaryMode(dst, env, shape, headers, body)
		return out, within("headers", err)
	}
	a := attrs{typ: TypeAPIRequest, data: []byte(body), contentType: contentType}
	if a.id, err = str(shape, "requestContext.requestId", rc.Get("requestId").Raw); err != nil {
		return dst, err
	}
	apiID := rc.Get("apiId").Str
	if domain := rc.Get("domainName").Str; domain != "" {
		a.source = "https://" + domain
	} else if apiID != "" {
		a.source = "urn:apigateway:" + apiID
	} else {
		return dst, errorf(shape, "requestContext", "neither domainName nor apiId is set")
	}
	a.subject = req.Get("rawPath").Str // HTTP API v2
	if a.subject == "" {
		a.subject = req.Get("path").Str // REST v1
	}
	epoch := rc.Get("timeEpoch") // v2
	if !epoch.Exists() {
		epoch = rc.Get("requestTimeEpoch") // v1
	}
	if epoch.Type == gjson.Number {
		a.time = time.UnixMilli(epoch.Int()).UTC()
	}
	if body == "" {
		a.data, a.contentType = nil, ""
	} else if a.contentType == "" {
		if jsonscan.Valid(body) {
			a.contentType = ContentJSON
		} else {
			a.contentType = ContentBinary
			a.base64 = true
		}
	}
	return build(dst, env, shape, a)
}

// gjsonRequestBody returns the request body, base64-decoded when API Gateway says so.
func gjsonRequestBody(req gjson.Result) (string, error) {
	b := req.Get("body")
	if !b.Exists() || b.Type == gjson.Null {
		return "", nil
	}
	if b.Type != gjson.String {
		return "", errorf("apigateway", "body", "want a string, got %s", jsonscan.Kind(b.Raw))
	}
	if !req.Get("isBase64Encoded").Bool() {
		return b.Str, nil
	}
	raw, err := base64.StdEncoding.DecodeString(b.Str)
	if err != nil {
		return "", errorf("apigateway", "body", "isBase64Encoded is true but the body is not base64: %v", err)
	}
	return string(raw), nil
}

// gjsonDefect says why ev is a message the platform could not understand — a
// body of no known shape wrapped as a fallback event (fallbackType, or
// DefaultFallbackType when empty), or an SNS notification whose Message is
// not JSON — and is "" for an event of a recognised shape. Dead-letter
// reasons of unrouted events name it ("SNS envelope: Message is not JSON",
// not only "matches no route").
func gjsonDefect(ev *ce.Event, fallbackType string) string {
	if fallbackType == "" {
		fallbackType = DefaultFallbackType
	}
	ct := ev.DataContentType()
	switch ev.Type() {
	case SNSNotificationType:
		if ct != ContentJSON {
			return "SNS envelope: Message is not JSON"
		}
		return ""
	case fallbackType:
	default:
		return ""
	}
	switch ct {
	case ContentBinary:
		return "body is not UTF-8 text"
	case ContentText:
		return "body is text, not JSON"
	}
	doc := gjson.ParseBytes(ev.Data())
	if !doc.IsObject() {
		return "body is JSON of no known shape (an array or scalar, not an event object)"
	}
	has := func(k string) bool { return doc.Get(gjson.Escape(k)).Exists() }
	switch {
	case has("detail") || has("detail-type"):
		var missing []string
		for _, k := range []string{"detail-type", "source"} {
			if !has(k) {
				missing = append(missing, k)
			}
		}
		return "EventBridge envelope: " + strings.Join(missing, " and ") + " missing"
	case has("TopicArn") || has("Type") && has("MessageId"):
		return "SNS envelope: Type, TopicArn and MessageId are required"
	case has("id") && has("source") && has("type"):
		return "CloudEvent without specversion"
	}
	return "body is JSON of no known shape (not a CloudEvent, SNS, EventBridge, S3 or API Gateway event)"
}
