package event

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// Edge cases of the walks jsonscan took over from gjson: first-of-duplicate
// members, dotted paths whose first match lacks the rest, isBase64Encoded
// and epoch values of every JSON type, header case and duplicates.
var jsonWalkSeeds = []string{
	`{"Records":[]}`, `{"Records":[1]}`, `{"Records":[{}]}`, `{"Records":[{"eventSource":null}]}`,
	`{"Records":[{"eventSource":1,"EventSource":"aws:s3"}]}`,
	`{"Records":[{"EventSource":"aws:sns","Sns":[1]}]}`,
	`{"Records":[{"EventSource":"aws:sns","Sns":{"Type":"Notification","TopicArn":"arn:aws:sns:x:1:t","MessageId":"m","Message":"hi"},"Sns":1}]}`,
	`{"Records":[{"eventSource":"aws:s3","eventSource":"aws:sqs","awsRegion":"r","eventName":"e","responseElements":{"x-amz-request-id":"a"},"responseElements":{"x-amz-request-id":"b","x-amz-id-2":"c"},"s3":{"bucket":[{"name":"x"}]},"s3":"no","s3":{"bucket":{"name":"b"},"object":{"key":"k"}},"eventTime":"2024-01-01T00:00:00Z"}]}`,
	`{"Records":[{"eventSource":"aws:s3","awsRegion":"r","awsRegion":"r2","eventName":"e","responseElements":{"x-amz-request-id":"a","x-amz-request-id":"a2","x-amz-id-2":"c"},"responseElements":{"x-amz-request-id":"b","x-amz-id-2":"d"},"s3":{"bucket":{"name":"b1","name":"b3"}},"s3":{"bucket":{"name":"b2"},"object":{"key":"k"}},"s3":{"object":{"key":"k2"}},"eventTime":"2024-01-01T00:00:00Z","eventTime":1}]}`,
	`{"Records":[{"eventSource":"aws:s3","awsRegion":"r","eventName":"e","responseElements":{"x-amz-request-id":1,"x-amz-id-2":"c"},"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
	`{"Records":[{"eventSource":"aws:s3","awsRegion":"r","eventName":"e","responseElements":{"x-amz-request-id":"a","x-amz-id-2":"c"},"s3":{"bucket":{"name":"b"},"object":{"key":"k"}},"eventTime":5}]}`,
	`{"Records":[{"eventSource":"aws:sqs","messageId":"1","messageId":"2","body":"x","body":1,"eventSourceARN":null,"attributes":{"SentTimestamp":"1","SentTimestamp":"2","n":1},"messageAttributes":{"ce-specversion":{"stringValue":"1.0"},"ce-id":{"stringValue":"i","stringValue":"j"},"ce-source":{"binaryValue":"AQ=="},"ce-source":{"stringValue":"s"},"ce-type":{"stringValue":"t"},"x":"{\"stringValue\":\"y\"}","z":["stringValue"]}}]}`,
	`{"Records":[{"eventSource":"aws:sqs","messageId":"1","body":"{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"2\",\"body\":\"inner\"}]}","attributes":[],"messageAttributes":null}]}`,
	`{"Records":[{"eventSource":"aws:sqs","messageId":"1","eventSourceARN":7,"body":"x"}]}`,
	`{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`,
	`{"Records":[{"eventSource":"aws:sqs","messageId":"1"}]}`,
	`{"httpMethod":"GET","requestContext":{"requestId":"r","apiId":"a","requestTimeEpoch":1.5e3},"body":null}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":1,"domainName":"d","timeEpoch":null,"requestTimeEpoch":5},"rawPath":"","path":"/p","body":"e30="}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","domainName":"","apiId":"a","timeEpoch":-12345678901234567890},"rawPath":"/r","rawPath":"/s","isBase64Encoded":"TRUE","body":"e30=","isBase64Encoded":false}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":"a","timeEpoch":1e30},"isBase64Encoded":1e-400,"body":"e30="}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":"a","timeEpoch":12345678901234567},"isBase64Encoded":"1","body":"!!"}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":"a"},"isBase64Encoded":{},"body":"{}"}`,
	`{"routeKey":"x","requestContext":{"apiId":"a"}}`, `{"routeKey":"x","requestContext":{"requestId":"r"}}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":"a"},"body":5}`,
	`{"routeKey":"x","headers":{"Content-Type":"text/plain","content-type":"application/cloudevents-batch+json","X":1},"headers":{"content-type":"text/plain"},"requestContext":{"requestId":"r","apiId":"a"},"body":" [ {\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}, 1 ] "}`,
	`{"routeKey":"x","headers":{"content-type":"application/cloudevents-batch+json"},"requestContext":{"requestId":"r","apiId":"a"},"body":"[]"}`,
	`{"routeKey":"x","headers":{"content-type":"application/cloudevents-batch+json"},"requestContext":{"requestId":"r","apiId":"a"},"body":"{}"}`,
	`{"routeKey":"x","headers":{"content-type":"application/cloudevents-batch+json"},"requestContext":{"requestId":"r","apiId":"a"},"body":"[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"},{\"id\":2}]"}`,
	`{"routeKey":"x","headers":{"content-type":"application/cloudevents+json; charset=utf-8"},"requestContext":{"requestId":"r","apiId":"a"},"body":"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}"}`,
	`{"routeKey":"x","headers":{"Ce-Specversion":"1.0","ce-id":"1","ce-source":"s","ce-type":"t"},"requestContext":{"requestId":"r","apiId":"a"},"body":"b"}`,
	`{"routeKey":"x","headers":{"content-type":"bad/"},"requestContext":{"requestId":"r","apiId":"a"}}`,
	`{"routeKey":"x","requestContext":{"requestId":"r","apiId":"a"},"requestContext":{"requestId":"r2","domainName":"d"},"body":"\u00e9\ud800x"}`,
}

// fuzzCorpus returns the string arguments of the committed FuzzNormalize
// corpus files ("go test fuzz v1" format).
func fuzzCorpus(t testing.TB) [][3]string {
	files, _ := filepath.Glob("testdata/fuzz/FuzzNormalize/*")
	var out [][3]string
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var args []string
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if q, ok := strings.CutPrefix(line, "string("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				args = append(args, s)
			}
		}
		_ = f.Close()
		if len(args) == 3 {
			out = append(out, [3]string{args[0], args[1], args[2]})
		}
	}
	return out
}

func walkSeeds(t testing.TB) [][3]string {
	var out [][3]string
	files, _ := filepath.Glob("testdata/*.*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, [3]string{string(b), "", ""}, [3]string{string(b), "1.0", "id-1"})
	}
	for _, s := range jsonWalkSeeds {
		out = append(out, [3]string{s, "", ""})
	}
	return append(out, fuzzCorpus(t)...)
}

func fuzzMessage(body, specversion, ceID string) Message {
	m := Message{Body: body, MessageID: "m-1", QueueARN: "arn:aws:sqs:eu-west-1:1:q",
		Attributes: map[string]string{"AWSTraceHeader": ceID}}
	if specversion != "" {
		m.MessageAttributes = map[string]string{"ce-specversion": specversion, "ce-id": ceID, "ce-source": "s", "ce-type": "t"}
	}
	return m
}

// agreeNormalize normalizes m with the jsonscan walks and with the gjson
// ones: same events, same control, same error.
func agreeNormalize(t *testing.T, m Message) {
	t.Helper()
	var n Normalizer
	got, gctl, gerr := n.Normalize(nil, m)
	want, wctl, werr := n.gjsonNormalize(nil, m)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("body %q: error %v; the gjson walk gave %v", m.Body, gerr, werr)
	}
	if gerr != nil {
		var g, w *Error
		if !errors.As(gerr, &g) || !errors.As(werr, &w) || *g != *w {
			t.Fatalf("body %q: error %#v; the gjson walk gave %#v", m.Body, gerr, werr)
		}
	}
	if !reflect.DeepEqual(gctl, wctl) {
		t.Fatalf("body %q: control %+v; the gjson walk gave %+v", m.Body, gctl, wctl)
	}
	if len(got) != len(want) {
		t.Fatalf("body %q: %d events; the gjson walk gave %d", m.Body, len(got), len(want))
	}
	for i := range got {
		g, _ := got[i].MarshalJSON()
		w, _ := want[i].MarshalJSON()
		if string(g) != string(w) || !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("body %q: event %d\n%s\nthe gjson walk gave\n%s", m.Body, i, g, w)
		}
		if d, wd := Defect(&got[i], ""), gjsonDefect(&want[i], ""); d != wd {
			t.Fatalf("body %q: Defect %q; the gjson walk gave %q", m.Body, d, wd)
		}
	}
}

// The jsonscan walks of Records, Lambda SQS/SNS records and API Gateway
// requests answer exactly what the gjson walks did, errors included, on the
// testdata bodies, the committed fuzz corpus and the edge cases above.
func TestNormalizeAgreesWithGJSON(t *testing.T) {
	seeds := walkSeeds(t)
	if len(seeds) < 2*20+len(jsonWalkSeeds) {
		t.Fatalf("only %d seeds: testdata missing?", len(seeds))
	}
	for _, s := range seeds {
		agreeNormalize(t, fuzzMessage(s[0], s[1], s[2]))
	}
}

// FuzzNormalizeAgreesWithGJSON extends the agreement to arbitrary bodies in
// valid UTF-8 (SQS accepts only valid Unicode bodies; in invalid UTF-8
// jsonscan decodes bad bytes to U+FFFD where gjson kept them, see
// FuzzSNSAttributes).
func FuzzNormalizeAgreesWithGJSON(f *testing.F) {
	for _, s := range walkSeeds(f) {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, body, specversion, ceID string) {
		if !utf8.ValidString(body) {
			return
		}
		agreeNormalize(t, fuzzMessage(body, specversion, ceID))
	})
}

var lookupKeys = []string{"eventSource", "EventSource", "Sns", "stringValue", "headers", "body", "isBase64Encoded", "requestId", "timeEpoch", "detail-type", "a", "b", "0"}

// FuzzMemberPath holds member and memberPath to gjson's Get with a plain
// or dotted path, and stringOf, truthy and integer to Result.Str, Bool and
// Int, on every well-formed JSON value in valid UTF-8.
func FuzzMemberPath(f *testing.F) {
	for _, s := range jsonWalkSeeds {
		f.Add(s, "Records", "eventSource")
	}
	for _, s := range []string{`{"a":{"b":1},"a":{"b":2}}`, `{"a":[{"b":1}],"a":"{\"b\":1}","a":{"c":{"b":3},"b":null}}`, `"{\"a\":1}"`, `[{"a":1}]`, `{"\u0061":{"b":"x"}}`, `{"a":1e999,"b":-0,"c":"T","d":"0x1"}`} {
		f.Add(s, "a", "b")
	}
	f.Fuzz(func(t *testing.T, doc, k1, k2 string) {
		if !jsonscan.Valid(doc) || !utf8.ValidString(doc) || !plainKey(k1) || !plainKey(k2) {
			return
		}
		check := func(got string, path string) {
			want := gjson.Get(doc, path)
			if got != want.Raw {
				t.Fatalf("lookup %q in %s = %q; gjson gives %q", path, doc, got, want.Raw)
			}
			if got == "" {
				return
			}
			if s := stringOf(got); s != want.Str {
				t.Fatalf("stringOf(%s) = %q; gjson gives %q", got, s, want.Str)
			}
			if b := truthy(got); b != want.Bool() {
				t.Fatalf("truthy(%s) = %v; gjson gives %v", got, b, want.Bool())
			}
			if isNumber(got) != (want.Type == gjson.Number) {
				t.Fatalf("isNumber(%s) = %v; gjson type %v", got, isNumber(got), want.Type)
			}
			if isNumber(got) && integer(got) != want.Int() {
				t.Fatalf("integer(%s) = %d; gjson gives %d", got, integer(got), want.Int())
			}
		}
		check(member(doc, k1), k1)
		check(memberPath(doc, k1, k2), k1+"."+k2)
		check(memberPath(doc, k1, k2, k1), k1+"."+k2+"."+k1)
		for _, k := range lookupKeys {
			if plainKey(k) {
				check(member(doc, k), k)
			}
		}
	})
}

// plainKey is a member name that is also a plain gjson path component: no
// path syntax, and not an array index (the walks look up named members
// only).
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	digits := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
		digits = digits && '0' <= c && c <= '9'
	}
	return !digits
}

// FuzzDefect holds Defect to the gjson has-key check on events of the
// fallback type whose data is any well-formed JSON in valid UTF-8.
func FuzzDefect(f *testing.F) {
	for _, s := range jsonWalkSeeds {
		f.Add(s)
	}
	for _, s := range []string{`{}`, `[]`, `1`, ` {"detail":null}`, `{"detail-type":1,"source":2}`, `{"TopicArn":1}`, `{"Type":1,"MessageId":2}`, `{"Type":1}`, `{"id":1,"source":1,"type":1}`, `{"i\u0064":1,"source":1,"type":1}`, `{"x":{"detail":1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		if !jsonscan.Valid(data) || !utf8.ValidString(data) {
			return
		}
		ev := ce.New()
		ev.SetType(DefaultFallbackType)
		if err := ev.SetData(ContentJSON, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if got, want := Defect(&ev, ""), gjsonDefect(&ev, ""); got != want {
			t.Fatalf("Defect(%s) = %q; the gjson check gave %q", data, got, want)
		}
	})
}

// BenchmarkNormalizeWalks measures the normalizer on the shapes whose walks
// moved from gjson to jsonscan, against the gjson walks (gjsonref_test.go)
// in the same run.
func BenchmarkNormalizeWalks(b *testing.B) {
	for _, name := range []string{"lambda-sqs-batch.json", "s3-notification.json", "apigw-v2-plain.json", "apigw-v2-batch.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		m := Message{Body: string(body), MessageID: "m-1", QueueARN: ordersQueue}
		var n Normalizer
		dst := make([]ce.Event, 0, 8)
		for _, impl := range []struct {
			name string
			fn   func([]ce.Event, Message) ([]ce.Event, *Control, error)
		}{{"baseline=gjson", n.gjsonNormalize}, {"jsonscan", n.Normalize}} {
			b.Run(strings.TrimSuffix(name, ".json")+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if out, _, err := impl.fn(dst[:0], m); err != nil || len(out) == 0 {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
