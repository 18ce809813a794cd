package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

const samples = "../../event/testdata/"

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func decodeLines(t *testing.T, out string) []ce.Event {
	t.Helper()
	var events []ce.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e ce.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q is not a CloudEvent: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}

func TestNormalizeCommand(t *testing.T) {
	code, out, errs := runCLI(t, "", "normalize", "--queue-arn", "arn:aws:sqs:eu-west-1:123456789012:q", samples+"s3-notification.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	events := decodeLines(t, out)
	if len(events) != 2 || events[1].Subject() != "incoming/b+c.jsonl" || events[0].Extensions()["sqsqueue"] != "arn:aws:sqs:eu-west-1:123456789012:q" {
		t.Fatalf("events = %v", events)
	}

	// stdin, attributes file in the SQS API's shape, fallback type.
	code, out, errs = runCLI(t, "just text", "normalize", "--attributes", samples+"sqs-attributes.json", "--fallback-type", "com.example.legacy", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	events = decodeLines(t, out)
	if len(events) != 1 || events[0].ID() != "a3f1c2d4-0000-4000-8000-000000000001" || events[0].Type() != "com.example.legacy" ||
		events[0].Extensions()["traceparent"] != "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01" {
		t.Fatalf("events = %v", events)
	}
}

func TestNormalizeCommandRejectsBadInput(t *testing.T) {
	code, out, errs := runCLI(t, `{"id":"1","detail-type":"x","source":"y","time":"noon"}`, "normalize")
	if code != 2 || out != "" || !strings.Contains(errs, `eventbridge: time: not an RFC 3339 time: "noon"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = runCLI(t, "", "normalize", "no-such-file.json")
	if code != 2 || !strings.Contains(errs, "no-such-file.json") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "", "normalize", "--attributes", "no-such-attrs.json", "-")
	if code != 2 || !strings.Contains(errs, "--attributes") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestNormalizeCommandControlMessage(t *testing.T) {
	code, out, errs := runCLI(t, "", "normalize", samples+"sns-subscription-confirmation.json")
	if code != 0 || out != "" || !strings.Contains(errs, "control message sns.SubscriptionConfirmation") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestMatchCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pattern := write("p.json", `{"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "incoming/"}]}}}`)
	code, out, _ := runCLI(t, "", "match", "--pattern", pattern, samples+"eventbridge-s3-object-created.json")
	if code != 0 || out != "true\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	code, out, _ = runCLI(t, `{"source": "aws.ec2"}`, "match", "--pattern", pattern)
	if code != 1 || out != "false\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	bad := write("bad.json", `{"source": "aws.s3"}`)
	code, _, errs := runCLI(t, "{}", "match", "--pattern", bad)
	if code != 2 || !strings.Contains(errs, `field "source": match values must be in an array`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "{not json", "match", "--pattern", pattern)
	if code != 2 || !strings.Contains(errs, "not valid JSON") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "{}", "match")
	if code != 2 || !strings.Contains(errs, "--pattern is required") {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if code, out, errs := runCLI(t, "", "normalize", "-h"); code != 0 || !strings.Contains(out, "--queue-arn ARN") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestBootstrapCommand(t *testing.T) {
	srv := motoserver.Shared(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	code, out, errs := runCLI(t, "", "bootstrap", "--topology", "../../../api/topology.yaml", "--prefix", "cli", "--aws-endpoint", srv.Endpoint)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res struct{ QueueURLs map[string]string }
	if err := json.Unmarshal([]byte(out), &res); err != nil || !strings.Contains(res.QueueURLs["orders"], "/cli-orders") {
		t.Fatalf("output %s: %v", out, err)
	}
	code, _, errs = runCLI(t, "", "bootstrap", "--topology", "no-such.yaml")
	if code != 2 || !strings.Contains(errs, "no-such.yaml") {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
}
