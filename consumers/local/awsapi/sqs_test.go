package awsapi_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

const queuesTopology = "testdata/queues.yaml"

// A missing queue is the SQS error shape SDKs map to their exception:
// __type com.amazonaws.sqs#QueueDoesNotExist, and the query code in
// x-amzn-query-error (SQS developer guide, "Interpreting Amazon SQS JSON
// API responses").
func TestMissingQueueIsAWSShapedError(t *testing.T) {
	s := start(t, queuesTopology)
	_, err := s.sqs().GetQueueUrl(ctx(t), &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var nq *types.QueueDoesNotExist
	if !errors.As(err, &nq) {
		t.Fatalf("GetQueueUrl of a missing queue: %v, want *types.QueueDoesNotExist", err)
	}
	if nq.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("error code %q, want the query code AWS.SimpleQueueService.NonExistentQueue", nq.ErrorCode())
	}
	// The raw wire shape, for clients other than Go's.
	req, _ := http.NewRequest(http.MethodPost, s.url+"/", strings.NewReader(`{"QueueUrl":"http://x/000000000000/nope"}`))
	req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["__type"] != "com.amazonaws.sqs#QueueDoesNotExist" || !strings.Contains(body["message"], "plain") ||
		resp.Header.Get("x-amzn-query-error") != "AWS.SimpleQueueService.NonExistentQueue;Sender" ||
		resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Errorf("wire error: %d %v %v", resp.StatusCode, resp.Header, body)
	}
}

func TestQueueURLsListAndCreateAnswerForTopologyQueues(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	u, err := c.GetQueueUrl(ctx(t), &sqs.GetQueueUrlInput{QueueName: aws.String("plain")})
	if err != nil || aws.ToString(u.QueueUrl) != s.queueURL("plain") {
		t.Fatalf("GetQueueUrl: %v %v", u, err)
	}
	l, err := c.ListQueues(ctx(t), &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{s.queueURL("jobs.fifo"), s.queueURL("jobs.fifo-dlq"), s.queueURL("plain"), s.queueURL("plain-dlq")}
	if !slices.Equal(l.QueueUrls, want) {
		t.Errorf("ListQueues: %v, want %v", l.QueueUrls, want)
	}
	l, err = c.ListQueues(ctx(t), &sqs.ListQueuesInput{QueueNamePrefix: aws.String("pl"), MaxResults: aws.Int32(1)})
	if err != nil || !slices.Equal(l.QueueUrls, []string{s.queueURL("plain")}) || aws.ToString(l.NextToken) == "" {
		t.Errorf("ListQueues prefix pl, 1 result: %v %v %v", l.QueueUrls, aws.ToString(l.NextToken), err)
	}
	// CreateQueue of a topology queue returns its URL, as SQS does for an
	// existing queue; any other is refused with the reason.
	cq, err := c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("plain")})
	if err != nil || aws.ToString(cq.QueueUrl) != s.queueURL("plain") {
		t.Errorf("CreateQueue plain: %v %v", cq, err)
	}
	_, err = c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("other")})
	var un *types.UnsupportedOperation
	if !errors.As(err, &un) || !strings.Contains(un.ErrorMessage(), "topology") {
		t.Errorf("CreateQueue other: %v, want UnsupportedOperation naming the topology", err)
	}
}

func TestGetQueueAttributes(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("plain"))
	for i := range 3 {
		if _, err := c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url}); err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{QueueUrl: url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	got := a.Attributes
	if got["ApproximateNumberOfMessages"] != "2" || got["ApproximateNumberOfMessagesNotVisible"] != "1" || got["VisibilityTimeout"] != "30" ||
		got["QueueArn"] != "arn:aws:sqs:local:000000000000:plain" {
		t.Errorf("attributes: %v", got)
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(got["RedrivePolicy"]), &rp); err != nil || rp.DeadLetterTargetArn != "arn:aws:sqs:local:000000000000:plain-dlq" || rp.MaxReceiveCount != 3 {
		t.Errorf("RedrivePolicy %q (%v)", got["RedrivePolicy"], err)
	}
	a, err = c.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.queueURL("jobs.fifo")),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameFifoQueue, types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil || len(a.Attributes) != 2 || a.Attributes["FifoQueue"] != "true" || a.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("FIFO attributes: %v %v", a.Attributes, err)
	}
}

// A message round trip: attributes and the trace header kept, the SDK's
// MD5 checks of SendMessage pass, the receive count grows on redelivery,
// and a deleted message is gone.
func TestSendReceiveDeleteWithAttributes(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("plain"))
	trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	sent, err := c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(`{"hello":"world"}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"tenant": {DataType: aws.String("String"), StringValue: aws.String("acme")},
			"n":      {DataType: aws.String("Number"), StringValue: aws.String("42")},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(trace)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sent.MD5OfMessageAttributes) == "" || aws.ToString(sent.MessageId) == "" {
		t.Errorf("SendMessage result: %+v", sent)
	}
	r, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"tenant"}})
	if err != nil || len(r.Messages) != 1 {
		t.Fatalf("ReceiveMessage: %v %v", r, err)
	}
	m := r.Messages[0]
	if aws.ToString(m.Body) != `{"hello":"world"}` || aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) ||
		aws.ToString(m.MD5OfBody) != aws.ToString(sent.MD5OfMessageBody) {
		t.Errorf("message: %+v", m)
	}
	if m.Attributes["AWSTraceHeader"] != trace || m.Attributes["ApproximateReceiveCount"] != "1" || m.Attributes["SentTimestamp"] == "" {
		t.Errorf("system attributes: %v", m.Attributes)
	}
	if len(m.MessageAttributes) != 1 || aws.ToString(m.MessageAttributes["tenant"].StringValue) != "acme" {
		t.Errorf("message attributes (asked for tenant only): %v", m.MessageAttributes)
	}
	// Visibility timeout 0: visible again at once, received a second time.
	if _, err := c.ChangeMessageVisibility(ctx(t), &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	r, err = c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(r.Messages) != 1 || r.Messages[0].Attributes["ApproximateReceiveCount"] != "2" || len(r.Messages[0].Attributes) != 1 {
		t.Fatalf("second receive: %+v %v", r, err)
	}
	if _, err := c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: r.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Deleting again succeeds, as in SQS; a malformed handle does not.
	if _, err := c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: r.Messages[0].ReceiptHandle}); err != nil {
		t.Errorf("second delete: %v", err)
	}
	_, err = c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: aws.String("garbage")})
	var bad *types.ReceiptHandleIsInvalid
	if !errors.As(err, &bad) {
		t.Errorf("delete with a malformed handle: %v, want ReceiptHandleIsInvalid", err)
	}
	if st := s.p.State(); queueDepth(st.Queues, "plain") != 0 {
		t.Errorf("queue not empty after delete: %v", st.Queues)
	}
}

func queueDepth(queues []map[string]any, name string) float64 {
	for _, q := range queues {
		if q["name"] == name {
			v, _ := q["visible"].(int)
			f, _ := q["inFlight"].(int)
			return float64(v + f)
		}
	}
	return -1
}

// Long polling: a receive waits up to WaitTimeSeconds and returns as soon
// as a message arrives; with none it returns empty after the wait.
func TestReceiveLongPolls(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("plain"))
	start := time.Now()
	r, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, WaitTimeSeconds: 1})
	if err != nil || len(r.Messages) != 0 || time.Since(start) < time.Second {
		t.Fatalf("empty long poll: %v %v after %v", r.Messages, err, time.Since(start))
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("late")})
	}()
	start = time.Now()
	r, err = c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, WaitTimeSeconds: 10})
	took := time.Since(start)
	if err != nil || len(r.Messages) != 1 || took < 250*time.Millisecond || took > 5*time.Second {
		t.Fatalf("long poll: %v %v after %v, want the message after ~300ms", r.Messages, err, took)
	}
	_, err = c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 11})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "MaxNumberOfMessages") {
		t.Errorf("MaxNumberOfMessages 11: %v, want InvalidParameterValue", err)
	}
}

func TestBatchesSendDeleteChangeVisibility(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("plain"))
	var entries []types.SendMessageBatchRequestEntry
	for i := range 5 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(i)), MessageBody: aws.String("m" + strconv.Itoa(i))})
	}
	entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String("bad"), MessageBody: aws.String("x"),
		MessageAttributes: map[string]types.MessageAttributeValue{"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1}}}})
	sb, err := c.SendMessageBatch(ctx(t), &sqs.SendMessageBatchInput{QueueUrl: url, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(sb.Successful) != 5 || len(sb.Failed) != 1 || aws.ToString(sb.Failed[0].Id) != "bad" || !sb.Failed[0].SenderFault ||
		aws.ToString(sb.Failed[0].Code) != "InvalidParameterValue" || !strings.Contains(aws.ToString(sb.Failed[0].Message), "Binary") {
		t.Fatalf("SendMessageBatch: %+v failed %+v", sb.Successful, sb.Failed)
	}
	_, err = c.SendMessageBatch(ctx(t), &sqs.SendMessageBatchInput{QueueUrl: url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")}}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Errorf("duplicate batch ids: %v, want BatchEntryIdsNotDistinct", err)
	}
	r, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(r.Messages) != 5 {
		t.Fatalf("receive: %d messages, %v", len(r.Messages), err)
	}
	// Two back at once (visibility 0), one malformed handle.
	cv, err := c.ChangeMessageVisibilityBatch(ctx(t), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: url, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: r.Messages[0].ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("b"), ReceiptHandle: r.Messages[1].ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("c"), ReceiptHandle: aws.String("nonsense"), VisibilityTimeout: 0},
	}})
	if err != nil || len(cv.Successful) != 2 || len(cv.Failed) != 1 || aws.ToString(cv.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("ChangeMessageVisibilityBatch: %+v %+v %v", cv.Successful, cv.Failed, err)
	}
	if _, err := c.ChangeMessageVisibility(ctx(t), &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: r.Messages[2].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	again, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(again.Messages) != 3 {
		t.Fatalf("after visibility 0: %d messages, %v", len(again.Messages), err)
	}
	// The old handle of a message received again is no longer in flight.
	_, err = c.ChangeMessageVisibility(ctx(t), &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: r.Messages[0].ReceiptHandle, VisibilityTimeout: 5})
	var ni *types.MessageNotInflight
	if !errors.As(err, &ni) {
		t.Errorf("change with a stale handle: %v, want MessageNotInflight", err)
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range append(again.Messages, r.Messages[3:]...) {
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	db, err := c.DeleteMessageBatch(ctx(t), &sqs.DeleteMessageBatchInput{QueueUrl: url, Entries: del})
	if err != nil || len(db.Successful) != 5 || len(db.Failed) != 0 {
		t.Fatalf("DeleteMessageBatch: %+v %+v %v", db.Successful, db.Failed, err)
	}
	if d := queueDepth(s.p.State().Queues, "plain"); d != 0 {
		t.Errorf("%v messages left after the batch delete", d)
	}
}

func TestPurgeQueue(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("plain"))
	for range 3 {
		if _, err := c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PurgeQueue(ctx(t), &sqs.PurgeQueueInput{QueueUrl: url}); err != nil {
		t.Fatal(err)
	}
	r, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(r.Messages) != 0 || queueDepth(s.p.State().Queues, "plain") != 0 {
		t.Errorf("after purge: %d messages (%v), depth %v", len(r.Messages), err, queueDepth(s.p.State().Queues, "plain"))
	}
}

// FIFO: a group's messages come in order and the group is held while one
// of them is in flight; other groups go on; a deduplication id sent twice
// within five minutes is one message.
func TestFIFOGroupsAndDeduplication(t *testing.T) {
	s := start(t, queuesTopology)
	c := s.sqs()
	url := aws.String(s.queueURL("jobs.fifo"))
	send := func(body, group, dedup string) *sqs.SendMessageOutput {
		t.Helper()
		in := &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(body), MessageGroupId: aws.String(group)}
		if dedup != "" {
			in.MessageDeduplicationId = aws.String(dedup)
		}
		out, err := c.SendMessage(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	a1 := send("a1", "A", "")
	send("a2", "A", "")
	send("b1", "B", "d-b1")
	if again := send("b1 again", "B", "d-b1"); aws.ToString(again.SequenceNumber) == "" {
		t.Errorf("no SequenceNumber on a FIFO send: %+v", again)
	}
	if dupe := send("a1", "A", ""); aws.ToString(dupe.MessageId) != aws.ToString(a1.MessageId) {
		t.Errorf("content-based duplicate got id %s, want the first send's %s", aws.ToString(dupe.MessageId), aws.ToString(a1.MessageId))
	}
	bodies := func(ms []types.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, aws.ToString(m.Body))
		}
		return out
	}
	r, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameMessageGroupId}})
	if err != nil || !slices.Equal(bodies(r.Messages), []string{"a1", "a2", "b1"}) || r.Messages[0].Attributes["MessageGroupId"] != "A" {
		t.Fatalf("first receive: %v %v", bodies(r.Messages), err)
	}
	send("a3", "A", "")
	send("b2", "B", "")
	// Both groups are in flight: nothing to receive.
	if held, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10}); err != nil || len(held.Messages) != 0 {
		t.Fatalf("groups in flight: got %v %v", bodies(held.Messages), err)
	}
	if _, err := c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: r.Messages[2].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Group B is free; A still has a1 and a2 in flight.
	next, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || !slices.Equal(bodies(next.Messages), []string{"b2"}) {
		t.Fatalf("after deleting b1: %v %v, want [b2]", bodies(next.Messages), err)
	}
	_, err = c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingParameter" || !strings.Contains(ae.ErrorMessage(), "MessageGroupId") {
		t.Errorf("FIFO send without a group: %v, want MissingParameter naming MessageGroupId", err)
	}
}

// A message a user sends to a topology queue is consumed by the topology's
// consumer: an order on the orders queue ends in the orders table.
func TestUserMessageIsConsumedByTopologyConsumer(t *testing.T) {
	s := start(t, repoTopology)
	detail := `{"_cloudevent":{"specversion":"1.0","id":"o-77","source":"shop","time":"2026-11-26T17:10:00Z","datacontenttype":"application/json"},` +
		`"orderId":"o-77","customerId":"c-1","currency":"EUR","total":12,"items":[{"sku":"a","quantity":1,"price":12}]}`
	body := `{"version":"0","id":"e-77","detail-type":"io.eventplane.demo.order.placed.v1","source":"shop","account":"000000000000",` +
		`"time":"2026-11-26T17:10:00Z","region":"local","resources":[],"detail":` + detail + `}`
	if _, err := s.sqs().SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: aws.String(s.queueURL("orders")), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Read back over the DynamoDB API, as a user's own reader would.
		out, err := dynamo(s).GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("local-orders"),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "order#o-77"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "state"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Item) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the orders consumer did not store order o-77; queues %v", s.p.State().Queues)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
