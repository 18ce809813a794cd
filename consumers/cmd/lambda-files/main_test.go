package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventplane/eventplane/consumers/internal/testenv/lambdarie"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// An S3 "Object Created" event delivered by EventBridge to the built function
// under the Runtime Interface Emulator yields results in DynamoDB; invoking
// it again (a Lambda retry) rewrites the same items.
// setup uploads a JSON Lines file to moto, creates the results table and
// starts the built function under the emulator.
func setup(t testing.TB, name string, env ...string) (*lambdarie.Function, *dynamodb.Client, []byte) {
	t.Helper()
	srv := motoserver.Shared(t)
	cfg := srv.Config()
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	ddb := dynamodb.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name + "-uploads")}); err != nil {
		t.Fatal(err)
	}
	body := `{"orderId":"o-1","total":3}` + "\n" + `{"orderId":"o-2"}` + "\n" + `{"orderId":"o-3","total":4}` + "\n"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name + "-uploads"), Key: aws.String("incoming/a.jsonl"),
		Body: strings.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
		t.Fatal(err)
	}
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name + "-results"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}}); err != nil {
		t.Fatal(err)
	}
	bin := lambdarie.Build(t, ".")
	env = append(append(srv.Env(), "EVENTPLANE_FILES_TABLE="+name+"-results", "EVENTPLANE_ENDPOINT="+srv.Endpoint,
		"EVENTPLANE_REQUIRED=orderId,total", "EVENTPLANE_NUMERIC=total"), env...)
	fn, err := lambdarie.Start(bin, env)
	if err != nil {
		t.Fatal(err)
	}
	event := `{"version":"0","id":"e-1","detail-type":"Object Created","source":"aws.s3","account":"123456789012","time":"2026-11-20T17:00:00Z",` +
		`"region":"us-east-1","resources":["arn:aws:s3:::` + name + `-uploads"],"detail":{"version":"0","bucket":{"name":"` + name + `-uploads"},"object":{"key":"incoming/a.jsonl","size":70}}}`
	return fn, ddb, []byte(event)
}

func TestFilesFunctionUnderTheEmulator(t *testing.T) {
	fn, ddb, event := setup(t, "lambda-files")
	defer fn.Stop()
	ctx := context.Background()
	for attempt := 1; attempt <= 2; attempt++ {
		status, out, took, err := fn.Invoke(event)
		if err != nil || status != 200 || strings.Contains(string(out), "errorMessage") {
			t.Fatalf("invoke %d: %v %d %s\n%s", attempt, err, status, out, fn.Log)
		}
		t.Logf("invocation %d took %v", attempt, took)
	}
	q, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("lambda-files-results"), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "file#lambda-files-uploads/incoming/a.jsonl"}}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != 3 { // 2 records + the summary, the same after the retry
		items, _ := json.Marshal(q.Items)
		t.Fatalf("%d items, want 2 records and a summary: %s", q.Count, items)
	}
	status, out, _, _ := fn.Invoke([]byte(`{"not":"an s3 event"}`))
	if status != 200 || !strings.Contains(string(out), "errorMessage") {
		t.Fatalf("a bad invocation must fail (Lambda keeps it in the on-failure destination): %d %s", status, out)
	}
	// Each invocation ends with EMF lines on stdout (CloudWatch Logs makes
	// them metrics): the consumer series, summed over the 3 invocations.
	fn.Stop() // the log is complete once the process is gone
	sum := map[string]float64{}
	for _, l := range strings.Split(fn.Log.String(), "\n") {
		var doc map[string]any
		if json.Unmarshal([]byte(l), &doc) != nil || doc["_aws"] == nil {
			continue
		}
		for _, name := range []string{"eventplane_messages_received_total", "eventplane_messages_failed_total", "eventplane_aws_requests_total"} {
			if v, ok := doc[name].(float64); ok && (name != "eventplane_aws_requests_total" || doc["api"] == "GetObject") {
				sum[name] += v
			}
		}
	}
	if sum["eventplane_messages_received_total"] != 3 || sum["eventplane_messages_failed_total"] != 1 || sum["eventplane_aws_requests_total"] < 2 {
		t.Errorf("EMF sums %v: want 3 received, 1 failed, >=2 S3 GetObject requests\n%s", sum, fn.Log)
	}
}

// BenchmarkFilesFunction reports the cold start (first invocation under the
// emulator) and the warm latency of parsing a 3-line file into DynamoDB (moto).
func BenchmarkFilesFunction(b *testing.B) {
	fn, _, event := setup(b, "bench-files")
	defer fn.Stop()
	_, _, cold, err := fn.Invoke(event)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if status, out, _, err := fn.Invoke(event); err != nil || status != 200 || strings.Contains(string(out), "errorMessage") {
			b.Fatalf("%v %d %s", err, status, out)
		}
	}
	b.ReportMetric(float64(cold.Microseconds())/1000, "cold-first-invoke-ms")
}

// A permanent failure (a file whose format cannot be told) must not be
// retried: Lambda retries every invocation that returns an error (twice, by
// the asynchronous policy Terraform sets). The function sends the event to
// its dead-letter queue with the reason and succeeds; a retryable failure
// still returns the error for Lambda to retry.
func TestPermanentFailureIsDeadLetteredNotRetried(t *testing.T) {
	srv := motoserver.Shared(t)
	sq := sqs.NewFromConfig(srv.Config())
	dlq, err := sq.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("lambda-files-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	fn, _, event := setup(t, "files-perm", "EVENTPLANE_DEAD_LETTER_URL="+aws.ToString(dlq.QueueUrl))
	defer fn.Stop()
	bin := strings.Replace(string(event), "incoming/a.jsonl", "incoming/blob.bin", 1)
	status, out, _, err := fn.Invoke([]byte(bin))
	if err != nil || status != 200 || strings.Contains(string(out), "errorMessage") {
		t.Fatalf("a permanent failure must succeed after dead-lettering (else Lambda retries it): %v %d %s\n%s", err, status, out, fn.Log)
	}
	got, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("DLQ: %v %+v", err, got)
	}
	m := got.Messages[0]
	if r := aws.ToString(m.MessageAttributes["eventplane-failure-reason"].StringValue); !strings.Contains(r, "permanent:") || !strings.Contains(r, "cannot tell the format") {
		t.Errorf("reason %q", r)
	}
	if !strings.Contains(aws.ToString(m.Body), "incoming/blob.bin") {
		t.Errorf("DLQ body %s, want the invocation's event", aws.ToString(m.Body))
	}
	// A missing object is retryable (it may not be readable yet): an error.
	missing := strings.Replace(string(event), "incoming/a.jsonl", "incoming/none.jsonl", 1)
	if status, out, _, _ := fn.Invoke([]byte(missing)); status != 200 || !strings.Contains(string(out), "errorMessage") {
		t.Errorf("a retryable failure must return an error for Lambda to retry: %d %s", status, out)
	}
}
