package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The aws CLI (v1 from PyPI, hack/awscli.sh) against `eventplane dev`,
// configured only by the variables the banner prints: the design
// document's `aws events put-events --entries file://test-event.json`
// reaches the topology's rule, topic and queue, and `aws sqs
// receive-message` / `delete-message` consume it.
func TestAWSCLIAgainstDev(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the aws CLI is not installed: run hack/awscli.sh (hack/setup.sh test does)")
	}
	s := startAWSDev(t) // configured only by the banner's export line
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsBin, append(args, "--output", "json")...)
		cmd.Dir = t.TempDir()
		cmd.Env = s.environ()
		if args[0] == "events" {
			ev := `[{"Source":"shop","DetailType":"io.eventplane.demo.order.placed.v1","EventBusName":"local-main",` +
				`"Detail":"{\"_cloudevent\":{\"specversion\":\"1.0\",\"id\":\"cli-1\",\"source\":\"shop\",\"datacontenttype\":\"application/json\"},\"orderId\":\"cli-1\",\"total\":1500}"}]`
			if err := os.WriteFile(filepath.Join(cmd.Dir, "test-event.json"), []byte(ev), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, b, stderr)
		}
		res := map[string]any{}
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, b)
			}
		}
		return res
	}
	put := run("events", "put-events", "--entries", "file://test-event.json")
	if put["FailedEntryCount"] != float64(0) {
		t.Fatalf("put-events: %v", put)
	}
	// orders-placed -> topic order-events -> raw delivery to order-analytics,
	// whose consumer is stopped without PostgreSQL: the message waits there.
	queue := s.awsURL + "/000000000000/order-analytics"
	got := run("sqs", "receive-message", "--queue-url", queue, "--wait-time-seconds", "10", "--attribute-names", "All")
	msgs, _ := got["Messages"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("receive-message: %v", got)
	}
	m := msgs[0].(map[string]any)
	if body, _ := m["Body"].(string); !strings.Contains(body, `"orderId":"cli-1"`) || !strings.Contains(body, `"detail-type":"io.eventplane.demo.order.placed.v1"`) {
		t.Errorf("message body: %s", m["Body"])
	}
	run("sqs", "delete-message", "--queue-url", queue, "--receipt-handle", m["ReceiptHandle"].(string))
	// SNS over the query protocol, to the same queue.
	pub := run("sns", "publish", "--topic-arn", "arn:aws:sns:local:000000000000:local-order-events", "--message", `{"detail":{"total":1}}`)
	if pub["MessageId"] == "" || pub["MessageId"] == nil {
		t.Errorf("sns publish: %v", pub)
	}
	got = run("sqs", "receive-message", "--queue-url", queue, "--wait-time-seconds", "10")
	if msgs, _ := got["Messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["Body"] != `{"detail":{"total":1}}` {
		t.Errorf("receive after sns publish: %v", got)
	}
	attrs := run("sqs", "get-queue-attributes", "--queue-url", queue, "--attribute-names", "ApproximateNumberOfMessagesNotVisible")
	if a, _ := attrs["Attributes"].(map[string]any); a["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("get-queue-attributes: %v", attrs)
	}
	cliDynamoDB(t, run)

}

// syncBuilder is a strings.Builder safe for the banner written by dev's
// goroutine and read by the test.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
