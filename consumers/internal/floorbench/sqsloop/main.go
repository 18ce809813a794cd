// Command sqsloop is the floor the consumer is measured against: a bare
// aws-sdk-go-v2 loop that receives up to 10 messages (the same
// ReceiveMessage request the consumer sends), parses each SNS envelope and
// the CloudEvent inside it with encoding/json, and deletes the batch with
// one DeleteMessageBatch, until SIGTERM.
//
//	sqsloop -endpoint http://127.0.0.1:9324 -queue-url URL
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

type envelope struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	TopicArn  string `json:"TopicArn"`
	Message   string `json:"Message"`
}

type cloudEvent struct {
	SpecVersion string          `json:"specversion"`
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	Data        json.RawMessage `json:"data"`
}

func main() {
	endpoint := flag.String("endpoint", "", "SQS endpoint")
	queueURL := flag.String("queue-url", "", "queue to drain")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, err := run(ctx, *endpoint, *queueURL)
	fmt.Fprintf(os.Stderr, "sqsloop: %d events\n", n)
	if !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "sqsloop: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, queueURL string) (int, error) {
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	var events int
	entries := make([]types.DeleteMessageBatchRequestEntry, 0, 10)
	for {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 20,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return events, err
		}
		entries = entries[:0]
		for i, m := range out.Messages {
			var env envelope
			var e cloudEvent
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				return events, fmt.Errorf("message %s: %w", aws.ToString(m.MessageId), err)
			}
			if err := json.Unmarshal([]byte(env.Message), &e); err != nil || e.ID == "" || e.SpecVersion != "1.0" {
				return events, fmt.Errorf("message %s: not a CloudEvent (%v)", aws.ToString(m.MessageId), err)
			}
			events++
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(entries) == 0 {
			continue
		}
		del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			return events, err
		}
		for _, f := range del.Failed {
			// A retried delete whose first attempt took effect reports
			// ReceiptHandleIsInvalid (seen with ElasticMQ); anything else is
			// redelivered and counted again, which the harness would see.
			fmt.Fprintf(os.Stderr, "sqsloop: delete entry %s: %s\n", aws.ToString(f.Id), aws.ToString(f.Code))
		}
	}
}
