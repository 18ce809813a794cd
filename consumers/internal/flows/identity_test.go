package flows

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/ingest"
	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// A producer's retry (the same source and id posted twice to the ingest
// API) has one effect in every flow against moto's EventBridge, which, like
// AWS, gives each PutEvents entry its own id: the store, the analytics rows
// and the alerts published each happen once, and every consumer sees the
// producer's id.
func TestProducerRetryHasOneEffectAgainstMoto(t *testing.T) {
	p := setup(t, "fr")
	ctx := context.Background()
	pg := pgserver.Shared(t)
	schemas, err := events.Load()
	if err != nil {
		t.Fatal(err)
	}
	bridgeTopicTarget(t, p, "orders-placed", "order-events")
	srv := httptest.NewServer(&ingest.Handler{Bus: p.res.Buses["main"], API: p.c.EventBridge, Schemas: schemas})
	defer srv.Close()

	store, err := handlers.NewStore(p.c.DynamoDB, handlers.StoreOptions{Table: p.res.Tables["orders"],
		Key: map[string]string{"pk": "order#{{data.orderId}}", "sk": "state"}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := handlers.NewSQL(ctx, pg.DSN, handlers.SQLOptions{Table: "order_analytics"}, handlers.SQLAuth{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rows.Close() })
	notify, err := handlers.NewPublish(handlers.PublishOptions{TopicARN: p.res.Topics["alerts"]}, nil, p.c.SNS, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string][]string{} // consumer -> event ids
	saw := func(name string, h delivery.Handler) delivery.Handler {
		return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			mu.Lock()
			seen[name] = append(seen[name], e.ID())
			mu.Unlock()
			return h.Handle(ctx, e)
		})
	}
	ms := map[string]*metrics.Metrics{
		"orders":    p.consume("orders", 10, route.Route[delivery.Handler]{Name: "store", Handler: saw("orders", store)}),
		"analytics": p.consume("order-analytics", 10, route.Route[delivery.Handler]{Name: "rows", Handler: saw("analytics", rows)}),
		"alerts":    p.consume("order-alerts", 10, route.Route[delivery.Handler]{Name: "notify", Handler: saw("alerts", notify)}),
	}

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	id := "retry-" + run
	body := fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"https://shop.example.com/orders","type":"io.eventplane.demo.order.placed.v1",`+
		`"time":"2026-11-26T17:10:00.250Z","datacontenttype":"application/json","data":{"orderId":%q,"customerId":"c-1","currency":"EUR","total":1500}}`, id, id)
	published := p.counted.snapshot()["SNS.Publish"]
	for range 2 {
		if status, out := postEvent(t, srv.URL, body); status != 202 {
			t.Fatalf("POST /events: %d %s", status, out)
		}
	}
	// Deliveries handled or dropped as duplicates, per consumer.
	delivered := func(name string) int {
		m := ms[name]
		return int(testutil.ToFloat64(m.Received))
	}
	testserver.Eventually(t, 40*time.Second, "both deliveries reached every consumer", func() (bool, string) {
		ok := delivered("orders") >= 2 && delivered("analytics") >= 2 && delivered("alerts") >= 2 &&
			p.depth(p.res.QueueURLs["orders"])+p.depth(p.res.QueueURLs["order-alerts"])+p.depth(p.res.QueueURLs["order-analytics"]) == 0
		return ok, fmt.Sprintf("orders %d analytics %d alerts %d", delivered("orders"), delivered("analytics"), delivered("alerts"))
	})
	mu.Lock()
	for name, ids := range seen {
		for _, got := range ids {
			if got != id {
				t.Errorf("consumer %s saw event id %q, want the producer's %q", name, got, id)
			}
		}
	}
	mu.Unlock()
	items, err := p.c.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(p.res.Tables["orders"]), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: "order#" + id}}})
	if err != nil || items.Count != 1 {
		t.Errorf("orders table: %d items (%v), want 1", items.Count, err)
	} else if v, _ := items.Items[0]["eventId"].(*ddbtypes.AttributeValueMemberS); v == nil || v.Value != id {
		t.Errorf("stored eventId %v, want %q", items.Items[0]["eventId"], id)
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM order_analytics WHERE data->>'orderId' = $1`, id).Scan(&n); err != nil || n != 1 {
		t.Errorf("order_analytics holds %d rows of the order (%v), want 1", n, err)
	}
	if got := p.counted.snapshot()["SNS.Publish"] - published - 2; got != 1 { // less the bridge's two
		t.Errorf("%d alerts published, want 1 (the retry is a duplicate)", got)
	}
	// Nothing was dead-lettered on the way.
	for _, q := range []string{"orders", "order-analytics", "order-alerts"} {
		out, err := p.c.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(p.res.DLQURLs[q])})
		if err == nil && len(out.Messages) > 0 {
			t.Errorf("%s DLQ: %s", q, aws.ToString(out.Messages[0].Body))
		}
	}
}

func postEvent(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := httpPost(url+"/events", "application/cloudevents+json", body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.status, resp.body
}

type response struct {
	status int
	body   string
}

func httpPost(url, contentType, body string) (response, error) {
	r, err := httpClient.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return response{r.StatusCode, string(b)}, err
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// bridgeTopicTarget stands in for one hop moto lacks: its EventBridge has no
// SNS targets (PutEvents fails with NotImplementedError). The rule's topic
// target is replaced by a queue, and what arrives there is published to the
// topic as the event document, which is what EventBridge's SNS target sends.
func bridgeTopicTarget(t *testing.T, p *platform, rule, topic string) {
	t.Helper()
	ctx := context.Background()
	arn := p.res.Rules[rule] // arn:aws:events:...:rule/<bus>/<name>
	ruleName, bus := arn[strings.LastIndexByte(arn, '/')+1:], p.res.Buses["main"]
	targets, err := p.c.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(ruleName), EventBusName: aws.String(bus)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets.Targets {
		if strings.HasPrefix(aws.ToString(tg.Arn), "arn:aws:sns:") {
			if _, err := p.c.EventBridge.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(ruleName), EventBusName: aws.String(bus), Ids: []string{aws.ToString(tg.Id)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	q, err := p.c.SQS.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(p.res.Prefix + "-" + topic + "-bridge")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := p.c.SQS.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.c.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(ruleName), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("bridge"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for bctx.Err() == nil {
			out, err := p.c.SQS.ReceiveMessage(bctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
			if err != nil {
				continue
			}
			for _, m := range out.Messages {
				if _, err := p.c.SNS.Publish(bctx, &awssns.PublishInput{TopicArn: aws.String(p.res.Topics[topic]), Message: m.Body}); err == nil {
					_, _ = p.c.SQS.DeleteMessage(bctx, &awssqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
				}
			}
		}
	}()
}
