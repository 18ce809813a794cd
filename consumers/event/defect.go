package event

import (
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"
)

// SNSNotificationType is the type of an event made from an SNS notification
// whose Message is not itself an event of a known shape.
const SNSNotificationType = "com.amazonaws.sns.Notification"

// Defect says why ev is a message the platform could not understand — a
// body of no known shape wrapped as a fallback event (fallbackType, or
// DefaultFallbackType when empty), or an SNS notification whose Message is
// not JSON — and is "" for an event of a recognised shape. Dead-letter
// reasons of unrouted events name it ("SNS envelope: Message is not JSON",
// not only "matches no route").
func Defect(ev *ce.Event, fallbackType string) string {
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

// validationReason turns a CloudEvents validation error (one "field:
// problem" per line, values possibly empty) into one line with empty values
// shown as "".
func validationReason(err error) string {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if strings.HasSuffix(line, ":") {
			line += ` ""`
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, "; ")
}
