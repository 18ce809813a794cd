package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

// Publishing the same event twice (a redelivery, or an SDK retry of a
// Publish whose response was lost) to an SNS FIFO topic carries one
// deduplication id, so subscribers get it once; FIFO topics also need a
// message group, which the event's source gives.
func TestPublishToFIFOTopicCarriesTheEventsDeduplicationID(t *testing.T) {
	cfg := motoserver.Shared(t).Config()
	ctx := context.Background()
	sq, sn := sqs.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("publish-dedup.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("publish-dedup.fifo"),
		Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String("arn:aws:sqs:" + motoserver.Region + ":" + motoserver.Account + ":publish-dedup.fifo")}); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublish(PublishOptions{TopicARN: aws.ToString(topic.TopicArn)}, nil, sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := order("dedup-1", 7, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	for range 2 {
		if err := p.Handle(ctx, e); err != nil {
			t.Fatalf("publish to a FIFO topic: %v", err)
		}
	}
	got := 0
	for range 3 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got++
			_, _ = sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
	}
	if got != 1 {
		t.Fatalf("the subscriber got %d copies of one event published twice, want 1", got)
	}
}
