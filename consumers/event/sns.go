package event

import (
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// sns decodes an SNS message (the HTTP/SQS envelope, or the Sns member of a
// Lambda SNS record, which has the same members).
func (n *Normalizer) sns(dst []ce.Event, env *envelope, f *fields) ([]ce.Event, *Control, error) {
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
	attrMap, err := snsAttributes(f.messageAttributes)
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
			out, ctl, ok, err := n.document(dst, env, body, &inner)
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

// snsAttributes reads SNS MessageAttributes ({"name": {"Type": "String",
// "Value": "..."}}) into a map; Binary attributes are skipped. raw has been
// validated by the envelope's scan. Inside an attribute the first "Type"
// and "Value" count (as gjson's Get, used before); across attributes a
// repeated name keeps the last.
func snsAttributes(raw string) (map[string]string, error) {
	if jsonscan.IsNull(raw) {
		return nil, nil
	}
	attrs := jsonscan.ObjectMembers(raw)
	var m map[string]string
	for attrs.Next() {
		typ, val := attributeTypeValue(attrs.Value)
		if t, _ := jsonscan.String(typ); t == "Binary" {
			continue
		}
		v, isString := jsonscan.String(val)
		if !isString {
			return nil, errorf("sns", "MessageAttributes."+attrs.Key+".Value", "want a string, got %s", jsonscan.Kind(val))
		}
		if m == nil {
			m = make(map[string]string)
		}
		m[attrs.Key] = v
	}
	if !attrs.Complete() {
		return nil, errorf("sns", "MessageAttributes", "want an object, got %s", jsonscan.Kind(raw))
	}
	return m, nil
}

// attributeTypeValue returns the raw "Type" and "Value" members of one
// message attribute (the first of each; "" when absent or not an object).
func attributeTypeValue(attr string) (typ, val string) {
	members := jsonscan.ObjectMembers(attr)
	for members.Next() && (typ == "" || val == "") {
		switch members.Key {
		case "Type":
			if typ == "" {
				typ = members.Value
			}
		case "Value":
			if val == "" {
				val = members.Value
			}
		}
	}
	return typ, val
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
