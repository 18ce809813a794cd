package event

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"
)

// baselineSNSEventBridge does the job the obvious way: decode each envelope
// into aws-lambda-go's structs with encoding/json, build the event with the
// sdk-go setters and Validate it.
func baselineSNSEventBridge(m Message) (ce.Event, error) {
	var sns events.SNSEntity
	if err := json.Unmarshal([]byte(m.Body), &sns); err != nil {
		return ce.Event{}, err
	}
	var eb events.CloudWatchEvent
	if err := json.Unmarshal([]byte(sns.Message), &eb); err != nil {
		return ce.Event{}, err
	}
	e := cloudevents.NewEvent()
	e.SetID(eb.ID)
	e.SetSource(eb.Source)
	e.SetType(eb.DetailType)
	e.SetTime(eb.Time)
	if len(eb.Resources) > 0 {
		e.SetSubject(eb.Resources[0])
	}
	e.SetExtension(ExtSQSMessageID, m.MessageID)
	e.SetExtension(ExtSQSQueue, m.QueueARN)
	e.SetExtension(ExtSNSTopic, sns.TopicArn)
	e.SetExtension(ExtSNSMessageID, sns.MessageID)
	if err := e.SetData(cloudevents.ApplicationJSON, eb.Detail); err != nil {
		return ce.Event{}, err
	}
	return e, e.Validate()
}

func benchMessage(b *testing.B) Message {
	m := message(b, "sns-eventbridge-s3.json", "", ordersQueue)
	m.MessageID = "0d5a7c5e-8f0b-4b5e-9d3c-6a1f2e3b4c5d"
	return m
}

// BenchmarkNormalize compares the normalizer with the baseline on an
// SNS-wrapped EventBridge S3 event received from SQS (one invocation runs
// both, so their ratio is measured on the same machine state).
func BenchmarkNormalize(b *testing.B) {
	b.Run("baseline=lambda-events+encoding-json", func(b *testing.B) {
		m := benchMessage(b)
		b.SetBytes(int64(len(m.Body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := baselineSNSEventBridge(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("normalizer", func(b *testing.B) {
		m := benchMessage(b)
		var n Normalizer
		dst := make([]ce.Event, 0, 1)
		b.SetBytes(int64(len(m.Body)))
		b.ReportAllocs()
		for b.Loop() {
			out, _, err := n.Normalize(dst[:0], m)
			if err != nil || len(out) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("normalizer+xray-trace", func(b *testing.B) {
		m := benchMessage(b)
		m.Attributes = map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
		var n Normalizer
		dst := make([]ce.Event, 0, 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := n.Normalize(dst[:0], m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBaselineAgrees guards the benchmark: both paths build the same event.
func TestBaselineAgrees(t *testing.T) {
	m := message(t, "sns-eventbridge-s3.json", "", ordersQueue)
	m.MessageID = "x"
	want, err := baselineSNSEventBridge(m)
	if err != nil {
		t.Fatal(err)
	}
	var n Normalizer
	got, _, err := n.Normalize(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	g, w := got[0], want
	if g.ID() != w.ID() || g.Source() != w.Source() || g.Type() != w.Type() || g.Subject() != w.Subject() ||
		!g.Time().Equal(w.Time()) || string(g.Data()) != string(w.Data()) || len(g.Extensions()) != len(w.Extensions()) {
		t.Fatalf("normalizer and baseline disagree:\n%v\n%v", g, w)
	}
}
