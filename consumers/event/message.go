package event

import (
	"fmt"
	"strings"
)

// Message is one inbound message as a source received it.
type Message struct {
	// Body is the message body exactly as received.
	Body string
	// MessageID is the transport's message id (SQS MessageId), if any.
	MessageID string
	// QueueARN identifies the queue the message came from, if any.
	QueueARN string
	// Attributes are the transport's system attributes (SQS: SentTimestamp,
	// AWSTraceHeader, ApproximateReceiveCount, MessageGroupId, ...).
	Attributes map[string]string
	// MessageAttributes are the string-typed user attributes (SQS message
	// attributes; ce-* for binary-mode CloudEvents, traceparent, content-type).
	MessageAttributes map[string]string
}

// ControlKind names a kind of platform control message.
type ControlKind string

// Control message kinds.
const (
	SNSSubscriptionConfirmation ControlKind = "sns.SubscriptionConfirmation"
	SNSUnsubscribeConfirmation  ControlKind = "sns.UnsubscribeConfirmation"
	S3TestEvent                 ControlKind = "s3.TestEvent"
)

// Control describes a message that is platform plumbing, not a business event:
// it must be acknowledged (and possibly acted on), never routed to handlers.
type Control struct {
	Kind ControlKind
	// Source is the topic ARN or bucket the control message is about.
	Source string
	// URL is the SubscribeURL of an SNS (un)subscribe confirmation.
	URL string
}

// Error reports input that has a recognised shape but cannot be normalized.
type Error struct {
	// Shape is the envelope being decoded: "sqs", "sns", "eventbridge", "s3",
	// "cloudevent", "apigateway", "lambda-sqs", "json".
	Shape string
	// Path locates the offending value, outermost envelope first
	// (e.g. `Message > detail-type` or `Records[2].s3.bucket.name`).
	Path string
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Shape, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Shape, e.Path, e.Reason)
}

func errorf(shape, path, format string, args ...any) *Error {
	return &Error{Shape: shape, Path: path, Reason: fmt.Sprintf(format, args...)}
}

// within prefixes the path of err (if it is an *Error) with the envelope field
// that held the failing inner document, as in `Message > detail-type`.
func within(field string, err error) error { return prefixPath(field, " > ", err) }

// at prefixes the path of err with the member of the same document that held
// the failing value, as in `Records[2].s3.bucket.name`.
func at(member string, err error) error { return prefixPath(member, ".", err) }

func prefixPath(prefix, sep string, err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	switch {
	case c.Path == "":
		c.Path = prefix
	case strings.HasPrefix(c.Path, "[") && sep == ".":
		c.Path = prefix + c.Path
	default:
		c.Path = prefix + sep + c.Path
	}
	return &c
}
