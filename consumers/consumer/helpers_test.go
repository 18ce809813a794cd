package consumer_test

import (
	"context"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var exampleURL string
var exampleClient *awssqs.Client
var exampleStop = func() {}

// exampleQueue makes a queue on the shared moto server holding body and
// returns the consumer's environment for it.
func exampleQueue(body string) func(string) string {
	ctx := context.Background()
	srv, err := motoserver.Start(ctx)
	if err != nil {
		panic(err) // moto_server missing: pip install 'moto[server]'
	}
	exampleStop = srv.Stop
	exampleClient = awssqs.NewFromConfig(srv.Config())
	if _, err := exampleClient.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("example-orders-dlq")}); err != nil {
		panic(err)
	}
	q, err := exampleClient.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("example-orders"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:` + motoserver.Region + ":" + motoserver.Account + `:example-orders-dlq","maxReceiveCount":5}`}})
	if err != nil {
		panic(err)
	}
	exampleURL = aws.ToString(q.QueueUrl)
	if _, err := exampleClient.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body)}); err != nil {
		panic(err)
	}
	env := map[string]string{"EVENTPLANE_QUEUE_URL": exampleURL, "EVENTPLANE_ENDPOINT": srv.Endpoint, "EVENTPLANE_WAIT_TIME": "1s"}
	for _, kv := range srv.Env() {
		for i := range kv {
			if kv[i] == '=' {
				if err := os.Setenv(kv[:i], kv[i+1:]); err != nil { // the AWS SDK reads the process environment
					panic(err)
				}
				break
			}
		}
	}
	return func(k string) string { return env[k] }
}

// exampleDepth is the queue's visible plus in-flight messages.
func exampleDepth() int {
	a, err := exampleClient.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(exampleURL),
		AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		panic(err)
	}
	defer exampleStop()
	n := 0
	for _, v := range a.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}
