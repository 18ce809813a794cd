package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/lambdarie"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// The built bootstrap under the Runtime Interface Emulator puts events on a
// moto bus whose rule delivers them to an SQS queue; bad requests get the
// documented status codes.
func TestIngestFunctionUnderTheEmulator(t *testing.T) {
	srv := motoserver.Shared(t)
	cfg := srv.Config()
	ctx := context.Background()
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("lambda-ingest-target")})
	if err != nil {
		t.Fatal(err)
	}
	qa, _ := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("lambda-ingest-bus")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventBusName: aws.String("lambda-ingest-bus"),
		EventPattern: aws.String(`{"detail-type": [{"prefix": "io.eventplane.demo.order."}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), EventBusName: aws.String("lambda-ingest-bus"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(qa.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	fn, err := lambdarie.Start(lambdarie.Build(t, "."), append(srv.Env(), "EVENTPLANE_BUS=lambda-ingest-bus", "EVENTPLANE_ENDPOINT="+srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Stop()
	order := `{"specversion":"1.0","id":"ord-rie","source":"https://shop.example.com","type":"io.eventplane.demo.order.placed.v1","datacontenttype":"application/json","data":{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":12.5}}`
	invoke := func(contentType, body string) (int, string) {
		t.Helper()
		req, _ := json.Marshal(map[string]any{"version": "2.0", "routeKey": "POST /events", "rawPath": "/events",
			"headers": map[string]string{"content-type": contentType}, "body": body, "isBase64Encoded": false,
			"requestContext": map[string]any{"requestId": "r-1", "http": map[string]string{"method": "POST", "path": "/events"}}})
		status, out, took, err := fn.Invoke(req)
		if err != nil || status != 200 {
			t.Fatalf("invoke: %v %d %s\n%s", err, status, out, fn.Log)
		}
		t.Logf("invocation took %v", took)
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response %s: %v", out, err)
		}
		return resp.StatusCode, resp.Body
	}
	if code, body := invoke("application/cloudevents+json", order); code != 202 || !strings.Contains(body, "ord-rie") {
		t.Fatalf("202 expected: %d %s", code, body)
	}
	if code, body := invoke("application/cloudevents+json", strings.Replace(order, `"EUR"`, `"euro"`, 1)); code != 400 || !strings.Contains(body, "/currency") {
		t.Fatalf("400 expected: %d %s", code, body)
	}
	if code, _ := invoke("text/plain", "hello"); code != 400 {
		t.Fatalf("400 expected for a non-CloudEvent, got %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			if !strings.Contains(aws.ToString(out.Messages[0].Body), `"io.eventplane.demo.order.placed.v1"`) {
				t.Fatalf("queue got %s", aws.ToString(out.Messages[0].Body))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprint("the accepted event did not reach the queue\n", fn.Log))
		}
	}
}

// schemathesis (property-based testing from api/openapi.yaml) against the
// local HTTP mode: no 5xx, responses conform to the documented schemas,
// status codes and content types.
func TestIngestAPIConformsToOpenAPI(t *testing.T) {
	st, err := exec.LookPath("schemathesis")
	if err != nil {
		t.Fatal("schemathesis not found: install it with `hack/schemathesis.sh` (pip install schemathesis)")
	}
	srv := motoserver.Shared(t)
	eb := eventbridge.NewFromConfig(srv.Config())
	if _, err := eb.CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String("schemathesis-bus")}); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(lambdarie.Build(t, "."), "--http", addr)
	cmd.Env = append(append(os.Environ(), srv.Env()...), "EVENTPLANE_BUS=schemathesis-bus", "EVENTPLANE_ENDPOINT="+srv.Endpoint)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitListening(t, addr)
	spec, err := filepath.Abs("../../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := exec.Command(st, "run", spec, "--url", "http://"+addr,
		"--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
		"--max-examples", "150", "--seed", "1")
	run.Env = append(os.Environ(), "SCHEMATHESIS_HOOKS=")
	// schemathesis keeps a cache (.schemathesis/) in its working directory:
	// run it in the test's temp dir so nothing lands in the source tree.
	run.Dir = t.TempDir()
	out, err := run.CombinedOutput()
	t.Logf("schemathesis:\n%s", tail(string(out), 40))
	if err != nil {
		t.Fatalf("schemathesis found problems: %v\nserver log:\n%s", err, tail(log.String(), 20))
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("local mode did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BenchmarkIngestFunction reports the function's cold start (its first
// invocation under the emulator) and the warm latency of one accepted event (PutEvents to
// moto) and of one rejected request (no AWS call), through the emulator.
func BenchmarkIngestFunction(b *testing.B) {
	srv := motoserver.Shared(b)
	eb := eventbridge.NewFromConfig(srv.Config())
	_, _ = eb.CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String("bench-bus")})
	bin := lambdarie.Build(b, ".")
	fn, err := lambdarie.Start(bin, append(srv.Env(), "EVENTPLANE_BUS=bench-bus", "EVENTPLANE_ENDPOINT="+srv.Endpoint))
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Stop()
	req := func(body string) []byte {
		r, _ := json.Marshal(map[string]any{"version": "2.0", "headers": map[string]string{"content-type": "application/cloudevents+json"}, "body": body,
			"requestContext": map[string]any{"http": map[string]string{"method": "POST"}}})
		return r
	}
	accepted := req(`{"specversion":"1.0","id":"b","source":"s","type":"com.example.bench.v1","datacontenttype":"application/json","data":{"n":1}}`)
	rejected := req(`{"specversion":"1.0"}`)
	// The emulator starts the bootstrap on the first invocation: its latency
	// bounds the cold start (process start, configuration, schema
	// compilation, and a request that makes no AWS call).
	_, _, cold, err := fn.Invoke(rejected)
	if err != nil {
		b.Fatal(err)
	}
	coldMS := float64(cold.Microseconds()) / 1000
	for _, c := range []struct {
		name    string
		payload []byte
	}{{"accepted", accepted}, {"rejected", rejected}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if status, out, _, err := fn.Invoke(c.payload); err != nil || status != 200 {
					b.Fatalf("%v %d %s", err, status, out)
				}
			}
			b.ReportMetric(coldMS, "cold-first-invoke-ms")
		})
	}
}
