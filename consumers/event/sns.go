package event

import (
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// sns decodes an SNS message (the HTTP/SQS envelope, or the Sns member of a
// Lambda SNS record, which has the same members).
func (n *Normalizer) sns(dst []ce.Event, env *envelope, doc string) ([]ce.Event, *Control, error) {
	var typ, id, topic, message, subject, ts, subscribeURL, attributes gjson.Result
	gjson.Parse(doc).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "Type":
			typ = v
		case "MessageId":
			id = v
		case "TopicArn":
			topic = v
		case "Message":
			message = v
		case "Subject":
			subject = v
		case "Timestamp":
			ts = v
		case "SubscribeURL":
			subscribeURL = v
		case "MessageAttributes":
			attributes = v
		}
		return true
	})
	topicArn, err := str("sns", "TopicArn", topic)
	if err != nil {
		return dst, nil, err
	}
	switch typ.Str {
	case "Notification":
	case "SubscriptionConfirmation":
		return dst, &Control{Kind: SNSSubscriptionConfirmation, Source: topicArn, URL: subscribeURL.Str}, nil
	case "UnsubscribeConfirmation":
		return dst, &Control{Kind: SNSUnsubscribeConfirmation, Source: topicArn, URL: subscribeURL.Str}, nil
	default:
		return dst, nil, errorf("sns", "Type", "unknown SNS message type %q (want Notification, SubscriptionConfirmation or UnsubscribeConfirmation)", typ.Str)
	}
	a := attrs{source: topicArn, typ: "com.amazonaws.sns.Notification"}
	if a.id, err = str("sns", "MessageId", id); err != nil {
		return dst, nil, err
	}
	if a.subject, err = optStr("sns", "Subject", subject); err != nil {
		return dst, nil, err
	}
	if a.time, err = timestamp("sns", "Timestamp", ts); err != nil {
		return dst, nil, err
	}
	if message.Type != gjson.String {
		return dst, nil, errorf("sns", "Message", "want a string, got %s", kind(message))
	}
	attrMap, err := snsAttributes(attributes)
	if err != nil {
		return dst, nil, err
	}
	mark := env.n
	env.add(ExtSNSTopic, topicArn)
	env.add(ExtSNSMessageID, a.id)
	traceFromAttributes(env, nil, attrMap)
	if _, ok := attrMap["ce-specversion"]; ok {
		out, err := binaryMode(dst, env, "sns", attrMap, message.Str)
		return out, nil, within("Message", err)
	}
	body := trimSpace(message.Str)
	if looksLikeJSON(body) && gjson.Valid(body) {
		out, ctl, ok, err := n.document(dst, env, body)
		if err != nil {
			return dst, nil, within("Message", err)
		}
		if ok {
			return out, ctl, nil
		}
	}
	// The notification itself is the event: its identity is id and source.
	env.n = mark
	a.data = []byte(message.Str)
	if looksLikeJSON(body) && gjson.Valid(body) {
		a.contentType = ContentJSON
	} else {
		a.contentType = ContentText
	}
	out, err := build(dst, env, "sns", a)
	return out, nil, err
}

// snsAttributes reads SNS MessageAttributes ({"name": {"Type": "String",
// "Value": "..."}}) into a map; Binary attributes are skipped.
func snsAttributes(v gjson.Result) (map[string]string, error) {
	if !v.Exists() || v.Type == gjson.Null {
		return nil, nil
	}
	if !v.IsObject() {
		return nil, errorf("sns", "MessageAttributes", "want an object, got %s", kind(v))
	}
	var m map[string]string
	var err error
	v.ForEach(func(k, a gjson.Result) bool {
		t := a.Get("Type").Str
		if t == "Binary" {
			return true
		}
		val := a.Get("Value")
		if val.Type != gjson.String {
			err = errorf("sns", "MessageAttributes."+k.Str+".Value", "want a string, got %s", kind(val))
			return false
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[k.Str] = val.Str
		return true
	})
	return m, err
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
