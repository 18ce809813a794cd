package event

import (
	"strings"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
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
	doc := string(ev.Data())
	if i := jsonscan.SkipSpace(doc, 0); i >= len(doc) || doc[i] != '{' {
		return "body is JSON of no known shape (an array or scalar, not an event object)"
	}
	// Which of the members that name a shape are present (with any value).
	// Data labelled JSON that is not well-formed (a data_base64 payload,
	// say) counts the members before the first malformed byte.
	var seen struct{ detail, detailType, source, topicArn, typ, messageID, id, ceType bool }
	members := jsonscan.ObjectMembers(doc)
	for members.Next() {
		switch members.Key {
		case "detail":
			seen.detail = true
		case "detail-type":
			seen.detailType = true
		case "source":
			seen.source = true
		case "TopicArn":
			seen.topicArn = true
		case "Type":
			seen.typ = true
		case "MessageId":
			seen.messageID = true
		case "id":
			seen.id = true
		case "type":
			seen.ceType = true
		}
	}
	switch {
	case seen.detail || seen.detailType:
		var missing []string
		if !seen.detailType {
			missing = append(missing, "detail-type")
		}
		if !seen.source {
			missing = append(missing, "source")
		}
		return "EventBridge envelope: " + strings.Join(missing, " and ") + " missing"
	case seen.topicArn || seen.typ && seen.messageID:
		return "SNS envelope: Type, TopicArn and MessageId are required"
	case seen.id && seen.source && seen.ceType:
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
