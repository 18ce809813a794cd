package sqs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/sqs"
)

func TestQueueStatsAndRedrive(t *testing.T) {
	e := newQueue(t, false, 30, 5)
	ctx := context.Background()
	e.send(7, nil)
	// Three messages reach the DLQ the way the consumer puts them there:
	// with its failure attributes next to the message's own.
	for i := range 3 {
		_, err := e.client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(e.dlq),
			MessageBody: aws.String(`{"n":` + string(rune('0'+i)) + `}`),
			MessageAttributes: map[string]types.MessageAttributeValue{delivery.
				AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String("boom")}, "tenant": {DataType: aws.String("String"), StringValue: aws.String("acme")},
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// One message in flight.
	if _, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.url), MaxNumberOfMessages: 1}); err != nil {
		t.Fatal(err)
	}
	st, err := sqs.QueueStats(ctx, e.client, e.url, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth != 6 || st.InFlight != 1 || st.DeadLetterDepth != 3 || st.DeadLetterURL != e.dlq {
		t.Fatalf("stats = %+v, want depth 6, in flight 1, DLQ %s with 3", st, e.dlq)
	}
	if st.OldestAge <= 0 {
		t.Errorf("oldest age = %v, want > 0 from the peek", st.OldestAge)
	}

	moved, err := sqs.Redrive(ctx, e.client, e.dlq, e.url, 0)
	if err != nil || moved != 3 {
		t.Fatalf("redrive moved %d, %v; want 3", moved, err)
	}
	if d := e.depth(e.dlq); d != 0 {
		t.Fatalf("DLQ still holds %d messages after redrive", d)
	}
	got := 0
	for got < 9 {
		out, err := e.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.url),
			MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			got++
			if strings.HasPrefix(aws.ToString(m.Body), `{"n":`) {
				if _, ok := m.MessageAttributes[delivery.AttrFailureReason]; ok {
					t.Errorf("redriven message still carries %s", delivery.AttrFailureReason)
				}
				if v := m.MessageAttributes["tenant"]; aws.ToString(v.StringValue) != "acme" {
					t.Errorf("redriven message lost its own attribute tenant: %v", m.MessageAttributes)
				}
			}
		}
	}
	if got != 9 {
		t.Fatalf("queue holds %d receivable messages after redrive, want 6 + 3", got)
	}
}
