package event

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzNormalize feeds arbitrary bodies and attributes to the normalizer: it
// must never panic, every error must be an *Error that names a shape and a
// reason, and every event it returns must be a valid CloudEvent.
func FuzzNormalize(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "", "")
	}
	f.Add("{}", "1.0", "id-1")
	f.Add(`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":1}`, "", "")
	f.Add(`{"Type":"Notification","TopicArn":"arn:aws:sns:x:1:t","MessageId":"m","Message":"{\"Records\":[{}]}"}`, "", "")
	f.Fuzz(func(t *testing.T, body, specversion, ceID string) {
		m := Message{Body: body, MessageID: "m-1", QueueARN: "arn:aws:sqs:eu-west-1:1:q",
			Attributes: map[string]string{"AWSTraceHeader": ceID}}
		if specversion != "" {
			m.MessageAttributes = map[string]string{"ce-specversion": specversion, "ce-id": ceID, "ce-source": "s", "ce-type": "t"}
		}
		var n Normalizer
		events, ctl, err := n.Normalize(nil, m)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Shape == "" || e.Reason == "" {
				t.Fatalf("error %v (%T) is not a complete *Error", err, err)
			}
			if len(events) != 0 || ctl != nil {
				t.Fatalf("error %v returned with events %v / control %v", err, events, ctl)
			}
			return
		}
		if ctl == nil && len(events) == 0 {
			t.Fatalf("no events, no control and no error for %q", body)
		}
		for _, e := range events {
			if verr := e.Validate(); verr != nil {
				t.Fatalf("invalid event %v: %v", e, verr)
			}
			if _, err := e.MarshalJSON(); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}

// FuzzParseSource checks that the direct construction of source URIs gives
// exactly what url.Parse gives.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"aws.s3", "arn:aws:sns:eu-west-1:1:t", "aws:s3.eu-west-1.b", "https://x/y", "A:b", "a b", "urn:x:y", ":x", "x:", "1a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !simpleSource(s) {
			return
		}
		got, err := parseSource(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := url.Parse(s)
		if err != nil {
			t.Fatalf("fast path accepted %q that url.Parse rejects: %v", s, err)
		}
		if got.URL != *want || got.String() != s {
			t.Fatalf("parseSource(%q) = %#v (%q), url.Parse gives %#v", s, got.URL, got.String(), *want)
		}
	})
}
