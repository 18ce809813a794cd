package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
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
	// A plain-http endpoint is accepted only with allowInsecure.
	p, err := NewPublish(PublishOptions{URL: srv.URL, AllowInsecure: true}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := order("http-1", 1, time.Now())
	if err := p.Handle(context.Background(), e); err != nil || got.ID() != "http-1" || !strings.HasPrefix(contentType, "application/cloudevents+json") {
		t.Fatalf("err %v, got %v, content type %q", err, got, contentType)
	}
	status = http.StatusBadRequest
	if err := p.Handle(context.Background(), e); !delivery.IsPermanent(err) {
		t.Fatalf("400: %v, want permanent", err)
	}
	status = http.StatusServiceUnavailable
	if err := p.Handle(context.Background(), e); err == nil || delivery.IsPermanent(err) {
		t.Fatalf("503: %v, want retryable", err)
	}
	if _, err := NewPublish(PublishOptions{URL: "x", TopicARN: "y"}, nil, nil, nil); err == nil {
		t.Fatal("two destinations accepted")
	}
}

// An http:// endpoint would carry event data in clear text: refused at
// start unless the route says allowInsecure; other schemes never pass.
func TestPublishRefusesPlainHTTPUnlessAllowed(t *testing.T) {
	for _, tc := range []struct {
		url      string
		insecure bool
		wantErr  string
	}{
		{"http://sink.example/events", false, "allowInsecure"},
		{"ftp://sink.example/events", true, "not https"},
		{"https:///events", false, "no host"},
		{"http://sink.example/events", true, ""},
		{"https://sink.example/events", false, ""},
	} {
		_, err := NewPublish(PublishOptions{URL: tc.url, AllowInsecure: tc.insecure}, nil, nil, nil)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("url %q allowInsecure %v: err %v, want %q", tc.url, tc.insecure, err, tc.wantErr)
		}
	}
}

// An endpoint that answers with a redirect must not get the event sent on
// to wherever it points (another host, or https -> http).
func TestPublishDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer other.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	p, err := NewPublish(PublishOptions{URL: srv.URL}, nil, nil, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Handle(context.Background(), order("redirect-1", 1, time.Now()))
	if !delivery.IsPermanent(err) || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Fatalf("redirect: %v, want a permanent error naming the redirect", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

// Response bodies are drained and closed, so deliveries reuse one
// connection instead of opening (and TLS-handshaking) one per event.
func TestPublishDrainsResponsesAndReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(strings.Repeat("ack ", 4096))) // 16 KiB, more than the transport buffers
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	p, err := NewPublish(PublishOptions{URL: srv.URL}, nil, nil, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := p.Handle(context.Background(), order(fmt.Sprintf("drain-%d", i), 1, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("10 deliveries opened %d connections, want 1 (bodies not drained)", n)
	}
}

// A response that never ends costs a bounded read, not a hung worker; the
// error quotes only a short prefix of the body.
func TestPublishBoundsResponseRead(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		chunk := []byte(strings.Repeat("x", 1024))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	p, err := NewPublish(PublishOptions{URL: srv.URL, Timeout: "30s"}, nil, nil, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.Handle(context.Background(), order("endless-1", 1, time.Now()))
	if err == nil || delivery.IsPermanent(err) || len(err.Error()) > 1024 {
		t.Fatalf("endless 503: %v, want a short retryable error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("endless body held the delivery for %v", d)
	}
}
