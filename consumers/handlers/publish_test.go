package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/motoserver"
)

func queueWithARN(t *testing.T, c *sqs.Client, name string) (url, arn string) {
	q, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"]
}

// receiveOne waits for one message and normalizes it as a consumer would.
func receiveOne(t *testing.T, c *sqs.Client, url string) ce.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			var n event.Normalizer
			evs, _, err := n.Normalize(nil, event.Message{Body: aws.ToString(out.Messages[0].Body)})
			if err != nil || len(evs) != 1 {
				t.Fatalf("normalize %s: %v", aws.ToString(out.Messages[0].Body), err)
			}
			return evs[0]
		}
	}
	t.Fatal("nothing arrived")
	return ce.Event{}
}

func TestPublishToEventBridgeAndSNS(t *testing.T) {
	cfg := motoserver.Shared(t).Config()
	ctx := context.Background()
	sq, eb, sn := sqs.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg), sns.NewFromConfig(cfg)
	busURL, busQueueARN := queueWithARN(t, sq, "publish-bus-target")
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("publish-bus")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all-orders"), EventBusName: aws.String("publish-bus"),
		EventPattern: aws.String(`{"detail-type": [{"prefix": "io.eventplane.demo.order."}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all-orders"), EventBusName: aws.String("publish-bus"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(busQueueARN)}}}); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublish(PublishOptions{EventBus: "publish-bus"}, eb, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := order("pub-1", 42, time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC))
	e.SetSubject("orders/o-1")
	if err := p.Handle(ctx, e); err != nil {
		t.Fatal(err)
	}
	got := receiveOne(t, sq, busURL)
	if got.Type() != e.Type() || got.Source() != "shop" || got.Subject() != "orders/o-1" || !strings.Contains(strings.ReplaceAll(string(got.Data()), " ", ""), `"total":42`) {
		t.Fatalf("EventBridge delivered %v", got)
	}

	topicURL, topicQueueARN := queueWithARN(t, sq, "publish-topic-target")
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("publish-topic")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(topicQueueARN)}); err != nil {
		t.Fatal(err)
	}
	p, err = NewPublish(PublishOptions{TopicARN: aws.ToString(topic.TopicArn)}, nil, sn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(ctx, e); err != nil {
		t.Fatal(err)
	}
	// SNS envelope around the structured CloudEvent: the consumer unwraps it.
	got = receiveOne(t, sq, topicURL)
	if got.ID() != "pub-1" || got.Extensions()[event.ExtSNSTopic] != aws.ToString(topic.TopicArn) {
		t.Fatalf("SNS delivered %v", got)
	}
}

func TestPublishHTTPStructuredMode(t *testing.T) {
	var status = http.StatusAccepted
	var got ce.Event
	var contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	p, err := NewPublish(PublishOptions{URL: srv.URL}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := order("http-1", 1, time.Now())
	if err := p.Handle(context.Background(), e); err != nil || got.ID() != "http-1" || !strings.HasPrefix(contentType, "application/cloudevents+json") {
		t.Fatalf("err %v, got %v, content type %q", err, got, contentType)
	}
	status = http.StatusBadRequest
	if err := p.Handle(context.Background(), e); !engine.IsPermanent(err) {
		t.Fatalf("400: %v, want permanent", err)
	}
	status = http.StatusServiceUnavailable
	if err := p.Handle(context.Background(), e); err == nil || engine.IsPermanent(err) {
		t.Fatalf("503: %v, want retryable", err)
	}
	if _, err := NewPublish(PublishOptions{URL: "x", TopicARN: "y"}, nil, nil, nil); err == nil {
		t.Fatal("two destinations accepted")
	}
}
