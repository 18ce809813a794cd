package awsapi_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// receiveBodies receives what is visible now (no long poll) and deletes it.
func receiveBodies(t *testing.T, s *stack, queue string) []string {
	t.Helper()
	out, err := s.sqs().ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL(queue)), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range out.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
		if _, err := s.sqs().DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL(queue)), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(bodies)
	return bodies
}

// The SQS API reference's DelaySeconds: a delay queue (the topology's
// delaySeconds) keeps every message sent to it invisible for that long —
// whoever sends it, SendMessage or an EventBridge rule's target — and
// counts it in ApproximateNumberOfMessagesDelayed; a message's own
// DelaySeconds (0 to 900) overrides the queue's on a standard queue, and a
// FIFO queue refuses it ("you can set this parameter only on a queue level").
func TestSQSDelaySeconds(t *testing.T) {
	s := start(t, "testdata/delays.yaml")
	c := s.sqs()
	attrs, err := c.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.queueURL("slow")),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameDelaySeconds}})
	if err != nil || attrs.Attributes["DelaySeconds"] != "2" {
		t.Errorf("GetQueueAttributes DelaySeconds of slow: %v %v, want 2", attrs.Attributes, err)
	}
	sent := time.Now()
	for _, in := range []*sqs.SendMessageInput{
		{QueueUrl: aws.String(s.queueURL("slow")), MessageBody: aws.String("queue-delay")},
		{QueueUrl: aws.String(s.queueURL("slow")), MessageBody: aws.String("own-delay-1"), DelaySeconds: 1},
		{QueueUrl: aws.String(s.queueURL("slow.fifo")), MessageBody: aws.String("fifo-queue-delay"), MessageGroupId: aws.String("g")},
	} {
		if _, err := c.SendMessage(ctx(t), in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SendMessageBatch(ctx(t), &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.queueURL("plain")), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("now"), MessageBody: aws.String("now")}, {Id: aws.String("later"), MessageBody: aws.String("batch-delay-1"), DelaySeconds: 1}}}); err != nil {
		t.Fatal(err)
	}
	pe, err := s.events().PutEvents(ctx(t), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("delay-test"), DetailType: aws.String("t"), Detail: aws.String(`{"routed":true}`)}}})
	if err != nil || pe.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %v", pe, err)
	}
	_, err = c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: aws.String(s.queueURL("slow.fifo")), MessageBody: aws.String("x"),
		MessageGroupId: aws.String("g"), DelaySeconds: 1})
	if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("per-message DelaySeconds on a FIFO queue: %v, want InvalidParameterValue", err)
	}
	_, err = c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: aws.String(s.queueURL("plain")), MessageBody: aws.String("x"), DelaySeconds: 901})
	if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("DelaySeconds 901: %v, want InvalidParameterValue", err)
	}

	// At once: only the undelayed message; the rest are counted as delayed.
	if got := receiveBodies(t, s, "plain"); !slices.Equal(got, []string{"now"}) {
		t.Errorf("plain at once: %v, want [now]", got)
	}
	if got := receiveBodies(t, s, "slow"); len(got) != 0 {
		t.Errorf("slow at once: %v, want nothing (a 2 s delay queue)", got)
	}
	if got := receiveBodies(t, s, "slow.fifo"); len(got) != 0 {
		t.Errorf("slow.fifo at once: %v, want nothing (a 2 s delay queue)", got)
	}
	attrs, err = c.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(s.queueURL("slow")),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessagesDelayed"] != "3" {
		t.Errorf("slow's ApproximateNumberOfMessagesDelayed: %v %v, want 3", attrs.Attributes, err)
	}

	time.Sleep(time.Until(sent.Add(1200 * time.Millisecond)))
	if got := receiveBodies(t, s, "plain"); !slices.Equal(got, []string{"batch-delay-1"}) {
		t.Errorf("plain after 1 s: %v, want [batch-delay-1]", got)
	}
	if got := receiveBodies(t, s, "slow"); !slices.Equal(got, []string{"own-delay-1"}) {
		t.Errorf("slow after 1 s: %v, want [own-delay-1] (its own delay overrides the queue's)", got)
	}
	time.Sleep(time.Until(sent.Add(2200 * time.Millisecond)))
	if got := receiveBodies(t, s, "slow"); len(got) != 2 || got[0] != "queue-delay" {
		t.Errorf("slow after 2 s: %v, want queue-delay and the routed event", got)
	}
	if got := receiveBodies(t, s, "slow.fifo"); !slices.Equal(got, []string{"fifo-queue-delay"}) {
		t.Errorf("slow.fifo after 2 s: %v, want [fifo-queue-delay]", got)
	}
}
