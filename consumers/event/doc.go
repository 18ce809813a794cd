// Package event turns whatever arrives from AWS into CloudEvents 1.0.
//
// A Normalizer recognises, by content, every envelope the platform receives —
// structured and binary-mode CloudEvents, SNS notifications, EventBridge events,
// S3 event notifications, Lambda SQS/SNS batches and API Gateway proxy requests —
// unwraps them recursively (S3 -> SNS -> SQS is two envelopes) and yields one
// github.com/cloudevents/sdk-go/v2 event per business event. The identity of every
// envelope it removed (SQS message id and queue, SNS topic and message id) travels
// on as extension attributes, and trace context (X-Ray AWSTraceHeader, W3C
// traceparent) becomes the CloudEvents "traceparent" extension.
//
// The package knows no transport and no AWS client: sources hand it a Message.
// Messages that are platform control traffic (SNS subscription confirmations,
// the S3 test event) are reported as a Control, never as business events.
// Input that looks like a known shape but is malformed yields an *Error naming
// the shape, the JSON path and what is wrong; the normalizer never panics and
// never guesses.
//
// JSON is validated and walked with consumers/jsonscan alone (no closures,
// no second validation pass); the package does not import gjson, which
// handlers keep for their user-written template paths. The gjson walks it
// replaced live on in gjsonref_test.go and snsattr_test.go as the reference
// of differential tests and fuzzers.
package event
