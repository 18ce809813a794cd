package event

import (
	"strings"
	"testing"
)

// A dead-letter reason is read by an operator: one line, no trailing
// newline, and an empty value shown as "" rather than as nothing.
func TestValidationReasonsAreOneLineWithVisibleEmptyValues(t *testing.T) {
	var n Normalizer
	_, _, err := n.Normalize(nil, Message{Body: `{"specversion":"","id":"x","source":"s","type":"t"}`, MessageID: "m"})
	if err == nil {
		t.Fatal("an empty specversion was accepted")
	}
	r := err.Error()
	if strings.TrimSpace(r) != r || strings.Contains(r, "\n") || strings.HasSuffix(r, ":") || !strings.Contains(r, `""`) {
		t.Fatalf("reason %q: want one line, no trailing space, the empty value shown as \"\"", r)
	}
}

// Defect names why the platform could not understand a message that became
// a fallback event (or an SNS notification whose Message is not JSON), and is
// empty for an event of a recognised shape.
func TestDefectNamesWhatIsWrong(t *testing.T) {
	const queue = "arn:aws:sqs:us-east-1:123456789012:q"
	for _, tc := range []struct{ name, body, want string }{
		{"text", "lorem ipsum", "body is text, not JSON"},
		{"json of no known shape", `{"hello":"world"}`, "JSON of no known shape"},
		{"eventbridge without detail-type", `{"version":"0","id":"e","source":"s","account":"1","time":"2026-12-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`, "EventBridge envelope: detail-type missing"},
		{"sns with text message", `{"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"plain words","Timestamp":"2026-12-01T00:00:00Z"}`, "SNS envelope: Message is not JSON"},
		{"cloudevent", `{"specversion":"1.0","id":"x","source":"s","type":"t"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n Normalizer
			evs, _, err := n.Normalize(nil, Message{Body: tc.body, MessageID: "m", QueueARN: queue})
			if err != nil || len(evs) != 1 {
				t.Fatalf("Normalize: %v, %d events", err, len(evs))
			}
			got := Defect(&evs[0], "")
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Defect = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
