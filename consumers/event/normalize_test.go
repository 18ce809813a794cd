package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

const (
	ordersQueue = "arn:aws:sqs:eu-west-1:123456789012:eventplane-dev-orders"
	fanoutTopic = "arn:aws:sns:eu-west-1:123456789012:eventplane-dev-fanout"
)

type want struct {
	id, source, typ, subject, time, contentType string
	ext                                         map[string]string
	data                                        string // substring the data must contain
	base64                                      bool
}

func load(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func message(t testing.TB, body, attrs, queue string) Message {
	t.Helper()
	m := Message{Body: load(t, body), QueueARN: queue}
	if attrs != "" {
		if err := ParseSQSAttributes([]byte(load(t, attrs)), &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func TestNormalizeShapes(t *testing.T) {
	order := want{
		id: "ord-7f3a", source: "https://shop.example.com/orders", typ: "io.eventplane.demo.order.placed.v1",
		subject: "orders/7f3a", time: "2026-11-20T17:00:00Z", contentType: "application/json",
		data: `"orderId":"7f3a"`,
	}
	with := func(w want, ext map[string]string) want { w.ext = ext; return w }
	ebS3 := want{
		id: "17793124-05d4-b198-2fde-7ededc63b103", source: "aws.s3", typ: "Object Created",
		subject: "arn:aws:s3:::eventplane-dev-uploads", time: "2026-11-20T17:52:19Z", contentType: "application/json",
		data: `"key":"incoming/orders-2026-11-20.csv"`,
	}
	s3a := want{
		id:     "C3D13FE58DE4C810.FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
		source: "aws:s3.eu-west-1.eventplane-dev-uploads", typ: "com.amazonaws.s3.ObjectCreated:Put",
		subject: "incoming/a.csv", time: "2026-11-20T17:52:19.123Z", contentType: "application/json",
		data: `"eventSource":"aws:s3"`,
	}
	tests := []struct {
		name, body, attrs, queue string
		want                     []want
	}{
		{name: "structured CloudEvent", body: "cloudevent-structured.json", queue: ordersQueue,
			want: []want{with(order, map[string]string{"tenant": "acme", ExtSQSQueue: ordersQueue})}},
		{name: "binary CloudEvent in SQS attributes", body: "raw-json.json", attrs: "sqs-binary-attributes.json", queue: ordersQueue,
			want: []want{{id: "inv-77", source: "urn:example:billing", typ: "io.eventplane.demo.invoice.issued.v1",
				contentType: "application/json", data: `"orderId":"42"`,
				ext: map[string]string{ExtSQSQueue: ordersQueue, ExtSQSMessageID: "a3f1c2d4-0000-4000-8000-000000000002"}}}},
		{name: "EventBridge S3 Object Created", body: "eventbridge-s3-object-created.json", attrs: "sqs-attributes.json", queue: ordersQueue,
			want: []want{with(ebS3, map[string]string{ExtSQSQueue: ordersQueue, ExtSQSMessageID: "a3f1c2d4-0000-4000-8000-000000000001",
				ExtTraceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"})}},
		{name: "EventBridge scheduled event", body: "eventbridge-scheduled.json",
			want: []want{{id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", source: "aws.events", typ: "Scheduled Event",
				subject: "arn:aws:events:eu-west-1:123456789012:rule/eventplane-dev-nightly-report", time: "2026-11-21T00:00:00Z",
				contentType: "application/json", data: "{}"}}},
		{name: "SNS-wrapped EventBridge event", body: "sns-eventbridge-s3.json", queue: ordersQueue,
			want: []want{with(ebS3, map[string]string{ExtSQSQueue: ordersQueue, ExtSNSTopic: fanoutTopic,
				ExtSNSMessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e"})}},
		{name: "S3 notification with two records", body: "s3-notification.json",
			want: []want{s3a, {
				id:     "D4E24GF69EF5D921.Gz1VWVSJZ9/JhBuUw9yScmtlRqdJaA0LH5W6Xq7T8T/KSXfVXfsNVF6KhIwBPkqE",
				source: "aws:s3.eu-west-1.eventplane-dev-uploads", typ: "com.amazonaws.s3.ObjectCreated:CompleteMultipartUpload",
				subject: "incoming/b+c.jsonl", time: "2026-11-20T17:52:19.123Z", contentType: "application/json",
				data: `"key":"incoming/b+c.jsonl"`}}},
		{name: "S3 -> SNS -> SQS (two envelopes)", body: "sns-s3-notification.json", queue: ordersQueue,
			want: []want{{id: s3a.id, source: s3a.source, typ: s3a.typ, subject: "incoming/c.csv", time: s3a.time,
				contentType: "application/json", data: `"key":"incoming/c.csv"`,
				ext: map[string]string{ExtSQSQueue: ordersQueue, ExtSNSTopic: "arn:aws:sns:eu-west-1:123456789012:eventplane-dev-uploads",
					ExtSNSMessageID: "b3e2a1f0-6b7c-5d8e-9f00-112233445566"}}}},
		{name: "SNS text notification", body: "sns-text-message.json",
			want: []want{{id: "da41e39f-ea4d-435a-b922-c6aae3915ebe", source: "arn:aws:sns:eu-west-1:123456789012:eventplane-dev-alerts",
				typ: "com.amazonaws.sns.Notification", subject: "Deploy finished", time: "2026-11-20T17:10:00Z",
				contentType: ContentText, data: "deploy 42 finished",
				ext: map[string]string{ExtTraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}},
		{name: "Lambda SQS batch", body: "lambda-sqs-batch.json",
			want: []want{
				with(order, map[string]string{"tenant": "acme", ExtSQSQueue: ordersQueue, ExtSQSMessageID: "059f36b4-87a3-44ab-83d2-661975830a7d",
					ExtTraceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}),
				with(ebS3, map[string]string{ExtSQSQueue: "arn:aws:sqs:eu-west-1:123456789012:eventplane-dev-fanout-archive",
					ExtSQSMessageID: "2e1424d4-f796-459a-8184-9c92662be6da", ExtSNSTopic: fanoutTopic, ExtSNSMessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e"}),
				{id: "c80e8021-a70a-42c7-a470-796e1186f753", source: ordersQueue, typ: DefaultFallbackType, time: "2025-11-20T17:00:02Z",
					contentType: "application/json", data: `{"orderId":"9","total":3}`,
					ext: map[string]string{ExtTraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
			}},
		{name: "Lambda SNS event", body: "lambda-sns.json",
			want: []want{with(order, map[string]string{"tenant": "acme", ExtSNSTopic: fanoutTopic, ExtSNSMessageID: "95df01b4-ee98-5cb9-9903-4c221d41eb5e"})}},
		{name: "API Gateway REST structured", body: "apigw-v1-structured.json", want: []want{with(order, map[string]string{"tenant": "acme"})}},
		{name: "API Gateway HTTP binary", body: "apigw-v2-binary.json",
			want: []want{{id: "pay-001", source: "urn:example:payments", typ: "io.eventplane.demo.payment.captured.v1",
				time: "2026-11-20T17:00:01Z", contentType: "application/json", data: `{"paymentId":"p-1","amount":42}`,
				ext: map[string]string{"tenant": "acme"}}}},
		{name: "API Gateway HTTP batch", body: "apigw-v2-batch.json",
			want: []want{with(order, map[string]string{"tenant": "acme"}), func() want {
				w := with(order, map[string]string{"tenant": "acme"})
				w.id, w.subject = "ord-7f3b", "orders/7f3b"
				return w
			}()}},
		{name: "API Gateway plain request", body: "apigw-v2-plain.json",
			want: []want{{id: "JKJaXmPLvHcESHA=", source: "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
				typ: TypeAPIRequest, subject: "/webhooks/stripe", time: "2025-11-20T17:00:00.456Z", contentType: "application/json",
				data: `{"hello":"world"}`}}},
		{name: "unknown JSON falls back", body: "raw-json.json", attrs: "sqs-attributes.json", queue: ordersQueue,
			want: []want{{id: "a3f1c2d4-0000-4000-8000-000000000001", source: ordersQueue, typ: DefaultFallbackType,
				time: "2025-11-20T17:00:00Z", contentType: "application/json", data: `"orderId":"42"`,
				ext: map[string]string{ExtTraceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"}}}},
		{name: "text body falls back", body: "raw-text.txt",
			want: []want{{id: "sha256:", source: DefaultFallbackSource, typ: DefaultFallbackType, contentType: ContentText,
				data: "plain text payload"}}},
	}
	var n Normalizer
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := message(t, tc.body, tc.attrs, tc.queue)
			got, ctl, err := n.Normalize(nil, m)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if ctl != nil {
				t.Fatalf("unexpected control message %+v", ctl)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events, want %d: %v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				checkEvent(t, got[i], w)
			}
		})
	}
}

func checkEvent(t *testing.T, e ce.Event, w want) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("event %s is not a valid CloudEvent: %v", e.ID(), err)
	}
	if e.SpecVersion() != "1.0" {
		t.Errorf("specversion = %q", e.SpecVersion())
	}
	eq := func(field, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	if strings.HasSuffix(w.id, ":") {
		if !strings.HasPrefix(e.ID(), w.id) {
			t.Errorf("id = %q, want prefix %q", e.ID(), w.id)
		}
	} else {
		eq("id", e.ID(), w.id)
	}
	eq("source", e.Source(), w.source)
	eq("type", e.Type(), w.typ)
	eq("subject", e.Subject(), w.subject)
	eq("datacontenttype", e.DataContentType(), w.contentType)
	if w.time == "" {
		if !e.Time().IsZero() {
			t.Errorf("time = %v, want none", e.Time())
		}
	} else {
		wt, err := time.Parse(time.RFC3339Nano, w.time)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Time().Equal(wt) {
			t.Errorf("time = %v, want %v", e.Time(), wt)
		}
	}
	ext := map[string]string{}
	for k, v := range e.Extensions() {
		ext[k] = v.(string)
	}
	if w.ext == nil {
		w.ext = map[string]string{}
	}
	if len(ext) != len(w.ext) {
		t.Errorf("extensions = %v, want %v", ext, w.ext)
	}
	for k, v := range w.ext {
		eq("extension "+k, ext[k], v)
	}
	data := e.Data()
	var compact bytes.Buffer
	if json.Compact(&compact, data) == nil {
		data = compact.Bytes()
	}
	if !strings.Contains(string(data), w.data) {
		t.Errorf("data = %s, want it to contain %s", e.Data(), w.data)
	}
	if e.DataBase64 != w.base64 {
		t.Errorf("DataBase64 = %v, want %v", e.DataBase64, w.base64)
	}
	// Every event survives the structured JSON format round trip.
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back ce.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if back.ID() != e.ID() || back.Source() != e.Source() || back.Type() != e.Type() {
		t.Errorf("round trip changed the event: %s", b)
	}
}

func TestNormalizeControlMessages(t *testing.T) {
	tests := []struct {
		body   string
		kind   ControlKind
		source string
	}{
		{"sns-subscription-confirmation.json", SNSSubscriptionConfirmation, fanoutTopic},
		{"sns-unsubscribe-confirmation.json", SNSUnsubscribeConfirmation, fanoutTopic},
		{"s3-test-event.json", S3TestEvent, "eventplane-dev-uploads"},
	}
	var n Normalizer
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			got, ctl, err := n.Normalize(nil, message(t, tc.body, "", ordersQueue))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("control message produced business events: %v", got)
			}
			if ctl == nil || ctl.Kind != tc.kind || ctl.Source != tc.source {
				t.Fatalf("control = %+v, want kind %s source %s", ctl, tc.kind, tc.source)
			}
			if tc.kind == SNSSubscriptionConfirmation && !strings.Contains(ctl.URL, "Action=ConfirmSubscription") {
				t.Errorf("SubscribeURL not carried: %q", ctl.URL)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	sns := func(message string) string {
		b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m-1", "TopicArn": fanoutTopic, "Message": message})
		return string(b)
	}
	tests := []struct {
		name, body string
		attrs      map[string]string
		shape      string
		path       string
		reason     string
	}{
		{"truncated JSON", `{"detail-type": "x", "source": `, nil, "sqs", "body", "invalid JSON at byte"},
		{"EventBridge without id", `{"detail-type":"x","source":"y","detail":{}}`, nil, "eventbridge", "id", "missing"},
		{"EventBridge numeric source", `{"id":"1","detail-type":"x","source":7}`, nil, "eventbridge", "source", "want a string, got a number"},
		{"EventBridge bad time", `{"id":"1","detail-type":"x","source":"y","time":"yesterday"}`, nil, "eventbridge", "time", "not an RFC 3339 time"},
		{"EventBridge time of another type", `{"id":"1","detail-type":"x","source":"y","time":true}`, nil, "eventbridge", "time", "want an RFC 3339 time string or epoch seconds, got a boolean"},
		{"EventBridge detail not an object", `{"id":"1","detail-type":"x","source":"y","detail":[1]}`, nil, "eventbridge", "detail", "want an object"},
		{"SNS inner EventBridge broken", sns(`{"id":"1","detail-type":"","source":"y"}`), nil, "eventbridge", "Message > detail-type", "empty"},
		{"SNS unknown type", `{"Type":"Surprise","TopicArn":"arn:aws:sns:eu-west-1:1:t"}`, nil, "sns", "Type", `unknown SNS message type "Surprise"`},
		{"SNS without message id", `{"Type":"Notification","TopicArn":"arn:aws:sns:eu-west-1:1:t","Message":"x"}`, nil, "sns", "MessageId", "missing"},
		{"S3 record without bucket", `{"Records":[{"eventSource":"aws:s3","awsRegion":"eu-west-1","eventName":"ObjectCreated:Put","responseElements":{"x-amz-request-id":"a","x-amz-id-2":"b"},"s3":{"object":{"key":"k"}}}]}`, nil, "s3", "Records[0].s3.bucket.name", "missing"},
		{"unknown record source", `{"Records":[{"eventSource":"aws:kinesis"}]}`, nil, "records", "Records[0].eventSource", `unknown event source "aws:kinesis"`},
		{"empty Records", `{"Records":[]}`, nil, "records", "Records", "empty"},
		{"structured CloudEvent without type", `{"specversion":"1.0","id":"1","source":"x"}`, nil, "cloudevent", "", "type"},
		{"binary mode without source", `{}`, map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t"}, "sqs", "", "source"},
		{"binary mode bad extension", `{}`, map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t", "ce-source": "s", "ce-Bad_Name": "x"}, "sqs", "ce-Bad_Name", "extension attribute names"},
		{"binary mode old specversion", `{}`, map[string]string{"ce-specversion": "0.3"}, "sqs", "ce-specversion", "unsupported CloudEvents specversion"},
		{"Lambda SQS record body broken", `{"Records":[{"eventSource":"aws:sqs","messageId":"m","body":"{\"Type\":\"Notification\",\"TopicArn\":\"arn:aws:sns:x:1:t\"}"}]}`, nil, "sns", "Records[0].body > MessageId", "missing"},
		{"nesting too deep", strings.Repeat(`{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:x:1:t","Message":`, 1) + deepSNS(10) + `}`, nil, "json", "", "nested deeper"},
		{"bad SentTimestamp", "plain", nil, "sqs", "Attributes.SentTimestamp", "epoch"},
	}
	var n Normalizer
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Message{Body: tc.body, MessageAttributes: tc.attrs}
			if tc.name == "bad SentTimestamp" {
				m.Attributes = map[string]string{"SentTimestamp": "soon"}
			}
			dst := make([]ce.Event, 0, 4)
			got, ctl, err := n.Normalize(dst, m)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), events %v, control %v; want *Error", err, err, got, ctl)
			}
			if e.Shape != tc.shape || !strings.HasSuffix(e.Path, tc.path) || !strings.Contains(e.Reason, tc.reason) {
				t.Fatalf("error = shape %q path %q reason %q; want shape %q path %q reason containing %q", e.Shape, e.Path, e.Reason, tc.shape, tc.path, tc.reason)
			}
			if len(got) != 0 {
				t.Fatalf("events returned with an error: %v", got)
			}
		})
	}
}

// deepSNS nests n SNS envelopes as JSON string values.
func deepSNS(n int) string {
	inner := `{"id":"1","detail-type":"x","source":"y"}`
	for i := 0; i < n; i++ {
		b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:x:1:t", "Message": inner})
		inner = string(b)
	}
	b, _ := json.Marshal(inner)
	return string(b)
}

// Emulators such as moto write EventBridge's time as epoch seconds.
func TestEventBridgeEpochSecondsTime(t *testing.T) {
	var n Normalizer
	got, _, err := n.Normalize(nil, Message{Body: `{"id":"1","detail-type":"Object Created","source":"aws.s3","time":1763658000.5,"detail":{}}`})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1763658000, 500000000).UTC(); !got[0].Time().Equal(want) {
		t.Fatalf("time = %v, want %v", got[0].Time(), want)
	}
}

func TestNormalizeAppendsAndKeepsDst(t *testing.T) {
	var n Normalizer
	dst, _, err := n.Normalize(nil, message(t, "s3-notification.json", "", ""))
	if err != nil || len(dst) != 2 {
		t.Fatalf("first: %d events, %v", len(dst), err)
	}
	dst, _, err = n.Normalize(dst, message(t, "eventbridge-scheduled.json", "", ""))
	if err != nil || len(dst) != 3 || dst[2].Type() != "Scheduled Event" || dst[0].Subject() != "incoming/a.csv" {
		t.Fatalf("append: %d events, %v", len(dst), err)
	}
	// A failure leaves what was there.
	dst, _, err = n.Normalize(dst, Message{Body: `{"Records":[{"eventSource":"aws:s3"}]}`})
	if err == nil || len(dst) != 3 {
		t.Fatalf("after failure: %d events, err %v", len(dst), err)
	}
}

func TestFallbackTypeAndSourceAreConfigurable(t *testing.T) {
	n := Normalizer{FallbackType: "com.example.legacy", FallbackSource: "urn:example:legacy"}
	got, _, err := n.Normalize(nil, Message{Body: "hello", MessageID: "m-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Type() != "com.example.legacy" || got[0].Source() != "urn:example:legacy" || got[0].ID() != "m-1" {
		t.Fatalf("got %v", got[0])
	}
	bin, _, err := n.Normalize(nil, Message{Body: "\xff\xfe", MessageID: "m-2"})
	if err != nil || !bin[0].DataBase64 || bin[0].DataContentType() != ContentBinary {
		t.Fatalf("binary body: %v %v", bin, err)
	}
}

func TestXRayToTraceparent(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:1", "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", "", false},
		{"Root=1-5759e988-BD862E3FE1BE46A994272793;Parent=53995c3f42cd8ad8", "", false},
		{"garbage", "", false},
	}
	for _, tc := range tests {
		got, ok := XRayToTraceparent(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("XRayToTraceparent(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
