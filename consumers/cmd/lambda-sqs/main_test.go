package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventplane/eventplane/consumers/internal/testenv/lambdarie"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

func TestPartialBatchResponseUnderTheEmulator(t *testing.T) {
	srv := motoserver.Shared(t)
	sq := sqs.NewFromConfig(srv.Config())
	dlq, err := sq.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("lambda-sqs-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	bin := lambdarie.Build(t, ".")
	batch := `{"Records":[
	 {"messageId":"m-good","body":"{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t.v1\"}","attributes":{"ApproximateReceiveCount":"1"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q"},
	 {"messageId":"m-bad","body":"{\"specversion\":\"1.0\",\"id\":","attributes":{"ApproximateReceiveCount":"1"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:q"}]}`
	routes := `EVENTPLANE_ROUTES=[{"name":"all","handler":"log"}]`
	for _, withDLQ := range []bool{false, true} {
		env := append(srv.Env(), routes, "EVENTPLANE_ENDPOINT="+srv.Endpoint)
		if withDLQ {
			env = append(env, "EVENTPLANE_DEAD_LETTER_URL="+aws.ToString(dlq.QueueUrl))
		}
		fn, err := lambdarie.Start(bin, env)
		if err != nil {
			t.Fatal(err)
		}
		status, out, _, err := fn.Invoke([]byte(batch))
		fn.Stop()
		if err != nil || status != 200 {
			t.Fatalf("invoke: %v %d %s", err, status, out)
		}
		var resp struct {
			BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if !withDLQ && (len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m-bad") {
			t.Fatalf("without a DLQ: failures %+v, want only m-bad (retried by the queue)", resp.BatchItemFailures)
		}
		if withDLQ && len(resp.BatchItemFailures) != 0 {
			t.Fatalf("with a DLQ: failures %+v, want none (m-bad dead-lettered)", resp.BatchItemFailures)
		}
	}
	got, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 || !strings.HasPrefix(aws.ToString(got.Messages[0].MessageAttributes["eventplane-failure-reason"].StringValue), "undecodable:") {
		t.Fatalf("DLQ: %v %+v", err, got)
	}
}

// BenchmarkSQSFunction reports the cold start (first invocation under the
// emulator) and the warm latency of a 10-record batch routed to the log
// handler.
func BenchmarkSQSFunction(b *testing.B) {
	srv := motoserver.Shared(b)
	bin := lambdarie.Build(b, ".")
	fn, err := lambdarie.Start(bin, append(srv.Env(), `EVENTPLANE_ROUTES=[{"name":"all","handler":"log","options":{"level":"debug"}}]`, "EVENTPLANE_ENDPOINT="+srv.Endpoint))
	if err != nil {
		b.Fatal(err)
	}
	defer fn.Stop()
	var recs []string
	for i := range 10 {
		recs = append(recs, `{"messageId":"m-`+string(rune('0'+i))+`","body":"{\"specversion\":\"1.0\",\"id\":\"`+string(rune('0'+i))+`\",\"source\":\"s\",\"type\":\"t.v1\"}","eventSource":"aws:sqs"}`)
	}
	batch := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	_, _, cold, err := fn.Invoke(batch)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if status, out, _, err := fn.Invoke(batch); err != nil || status != 200 || strings.Contains(string(out), "m-") {
			b.Fatalf("%v %d %s", err, status, out)
		}
	}
	b.ReportMetric(float64(cold.Microseconds())/1000, "cold-first-invoke-ms")
}

// On a FIFO queue, Lambda's rule for partial batch responses: stop at the
// first failure and report it and every later record of the batch as
// failed, so the message group's order holds. The second record fails (its
// route posts to a closed port: retryable); the third must not be processed
// and must be reported too.
func TestFIFOBatchStopsAtFirstFailure(t *testing.T) {
	srv := motoserver.Shared(t)
	bin := lambdarie.Build(t, ".")
	rec := func(id, data string) string {
		return `{"messageId":"` + id + `","body":"{\"specversion\":\"1.0\",\"id\":\"` + id + `\",\"source\":\"s\",\"type\":\"t.v1\",\"datacontenttype\":\"application/json\",\"data\":` +
			strings.ReplaceAll(data, `"`, `\"`) + `}","attributes":{"ApproximateReceiveCount":"1","MessageGroupId":"g-1"},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:orders.fifo"}`
	}
	batch := `{"Records":[` + rec("m-1", `{"ok":true}`) + "," + rec("m-2", `{"fail":true}`) + "," + rec("m-3", `{"ok":true}`) + `]}`
	routes := `EVENTPLANE_ROUTES=[{"name":"fail","pattern":{"data":{"fail":[true]}},"handler":"publish","options":{"url":"http://127.0.0.1:1/closed","timeout":"1s","allowInsecure":true}},` +
		`{"name":"all","handler":"log"}]`
	fn, err := lambdarie.Start(bin, append(srv.Env(), routes, "EVENTPLANE_ENDPOINT="+srv.Endpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Stop()
	status, out, _, err := fn.Invoke([]byte(batch))
	if err != nil || status != 200 {
		t.Fatalf("invoke: %v %d %s", err, status, out)
	}
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	if strings.Join(ids, ",") != "m-2,m-3" {
		t.Fatalf("batchItemFailures %v, want m-2 (failed) and m-3 (after it, unprocessed)", ids)
	}
	fn.Stop() // the log is complete (and no longer written) once the process is gone
	if strings.Contains(fn.Log.String(), `"event_id":"m-3"`) {
		t.Errorf("m-3 was processed after m-2 failed:\n%s", fn.Log)
	}
}
