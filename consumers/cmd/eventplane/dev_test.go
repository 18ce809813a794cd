package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// startDev runs `eventplane dev` in process and returns its URL.
func startDev(t *testing.T) string {
	t.Helper()
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out strings.Builder
	dir := t.TempDir() // before the cleanup below, so removed after it
	go func() {
		done <- dev(ctx, devOptions{topology: "../../../api/topology.yaml", dir: dir, addr: addr, log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &out)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("eventplane dev: %v", err)
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("eventplane dev did not become ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func orderLine(i int) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"cli-%d","source":"cli","type":"io.eventplane.demo.order.placed.v1","datacontenttype":"application/json","data":{"orderId":"cli-%d","customerId":"c","currency":"EUR","total":5,"items":[{"sku":"a","quantity":1,"price":5}]}}`, i, i)
}

// send, tail and dlq against a running eventplane dev.
func TestSendTailAndDLQAgainstDev(t *testing.T) {
	url := startDev(t)

	// tail follows what the consumers process.
	tctx, stopTail := context.WithCancel(context.Background())
	seen := make(chan engine.RecentEvent, 2000)
	go func() {
		_ = tailLocal(tctx, url, 0, time.Time{}, true, func(_ string, e engine.RecentEvent) { seen <- e })
	}()
	defer stopTail()
	time.Sleep(300 * time.Millisecond)

	var lines []string
	for i := range 1500 {
		lines = append(lines, orderLine(i))
	}
	file := filepath.Join(t.TempDir(), "orders.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "send", "--endpoint", url, file)
	if code != 0 || !strings.Contains(out, "sent 1,500, rejected 0") || !strings.Contains(errs, "sent 1500/1500 (100%") {
		t.Fatalf("send: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	select {
	case e := <-seen:
		if e.Type != "io.eventplane.demo.order.placed.v1" {
			t.Errorf("tail saw %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail saw no processed event")
	}

	// A poison event ends in the orders DLQ; dlq list shows its reason and
	// dlq redrive moves it back.
	code, _, errs = runCLI(t, `{"specversion":"1.0","id":"bad-1","source":"cli","type":"io.eventplane.demo.order.placed.v9","datacontenttype":"application/json","data":{}}`,
		"send", "--endpoint", url)
	if code != 0 {
		t.Fatalf("send poison: %s", errs)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, out, errs = runCLI(t, "", "dlq", "list", "orders", "--endpoint", url)
		if code == 0 && strings.Contains(out, "1 dead-letter messages in orders") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dlq list: exit %d\n%s\n%s", code, out, errs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "reason: ") || strings.Contains(out, "reason: \n") {
		t.Errorf("dlq list shows no reason:\n%s", out)
	}
	code, out, errs = runCLI(t, "", "dlq", "redrive", "orders", "--endpoint", url)
	if code != 0 || !strings.Contains(out, "moved 1 messages back to orders") {
		t.Fatalf("dlq redrive: exit %d\n%s\n%s", code, out, errs)
	}

	// Bad input: a clear error naming the event.
	code, _, errs = runCLI(t, `{"specversion":"1.0"}`+"\n"+`{"oops"`, "send", "--endpoint", url)
	if code == 0 || !strings.Contains(errs, "event 2") {
		t.Errorf("send of a broken second event: exit %d, %s", code, errs)
	}
	code, _, errs = runCLI(t, "", "dlq", "list", "nope", "--endpoint", url)
	if code == 0 || !strings.Contains(errs, `no queue "nope"`) {
		t.Errorf("dlq of an unknown queue: exit %d, %s", code, errs)
	}
}

// The same dlq commands work against SQS (here moto): the DLQ comes from the
// queue's redrive policy.
func TestDLQCommandAgainstSQS(t *testing.T) {
	srv := motoserver.Shared(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	c := awssqs.NewFromConfig(srv.Config())
	dlq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("cli-dlq-test-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	q, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("cli-dlq-test"), Attributes: map[string]string{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":3}`, a.Attributes["QueueArn"])}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: dlq.QueueUrl, MessageBody: aws.String(`{"x":1}`),
		MessageAttributes: map[string]types.MessageAttributeValue{delivery.AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String("handler said no")}}})
	url := aws.ToString(q.QueueUrl)
	// stats reads depths only (GetQueueAttributes): what helm test checks.
	code, out, errs := runCLI(t, "", "dlq", "stats", "--queue-url", url, "--aws-endpoint", srv.Endpoint, "--region", "us-east-1")
	if code != 0 || !strings.Contains(out, "cli-dlq-test-dlq: 1 dead letters") {
		t.Fatalf("dlq stats: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "dlq", "list", "--queue-url", url, "--aws-endpoint", srv.Endpoint, "--region", "us-east-1")
	if code != 0 || !strings.Contains(out, "reason: handler said no") || !strings.Contains(out, "1 dead-letter messages") {
		t.Fatalf("dlq list: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "dlq", "redrive", "--queue-url", url, "--aws-endpoint", srv.Endpoint, "--region", "us-east-1")
	if code != 0 || !strings.Contains(out, "moved 1 messages") {
		t.Fatalf("dlq redrive: exit %d\n%s\n%s", code, out, errs)
	}
}

// send --bus puts the events on an EventBridge bus (moto), where a rule
// delivers them to a queue.
func TestSendToEventBridge(t *testing.T) {
	srv := motoserver.Shared(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg := srv.Config()
	sq := awssqs.NewFromConfig(cfg)
	eb := eventbridge.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("cli-send-bus")})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := sq.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{"QueueArn"}})
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("cli-bus")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("cli-all"), EventBusName: aws.String("cli-bus"),
		EventPattern: aws.String(`{"source":["cli"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("cli-all"), EventBusName: aws.String("cli-bus"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(a.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 12 {
		lines = append(lines, orderLine(i))
		if i == 4 { // the 6th event of the input is not a CloudEvent: reported, the rest still sent
			lines = append(lines, `{"specversion":"1.0","id":"no-source-or-type"}`)
		}
	}
	// moto on a loaded machine can take longer than the default 4 s attempt
	// limit to put events on a bus with a queue target; what this test
	// checks is the reporting, so it gives moto the time.
	code, out, errs := runCLI(t, "["+strings.Join(lines, ",")+"]", "send", "--bus", "cli-bus", "--aws-endpoint", srv.Endpoint, "--region", "us-east-1", "--aws-attempt-timeout", "60s")
	if code != 1 || !strings.Contains(out, "sent 12, rejected 1") || !strings.Contains(errs, "event 6 rejected: invalid CloudEvent") {
		t.Fatalf("send --bus: exit %d\n%s\n%s", code, out, errs)
	}
	got := 0
	for range 10 {
		m, err := sq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range m.Messages {
			var ev struct {
				DetailType string `json:"detail-type"`
				Detail     struct{ OrderID string }
			}
			if json.Unmarshal([]byte(aws.ToString(msg.Body)), &ev) == nil && ev.DetailType == "io.eventplane.demo.order.placed.v1" && ev.Detail.OrderID != "" {
				got++
			} else {
				t.Logf("unexpected message: %s", aws.ToString(msg.Body))
			}
			_, _ = sq.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: msg.ReceiptHandle})
		}
		if got == 12 {
			break
		}
	}
	if got != 12 {
		t.Fatalf("the rule's queue got %d of the 12 events", got)
	}
}
