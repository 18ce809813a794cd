package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

const order = `{"specversion":"1.0","id":"ord-1","source":"https://shop.example.com","type":"io.eventplane.demo.order.placed.v1",` +
	`"datacontenttype":"application/json","data":{"orderId":"o-1","customerId":"c-1","currency":"EUR","total":12.5}}`

// setup creates a bus whose rule delivers everything to a queue.
func setup(t *testing.T) (*Handler, *sqs.Client, string) {
	t.Helper()
	cfg := motoserver.Shared(t).Config()
	ctx := context.Background()
	eb, sq := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ingest-" + strings.ToLower(t.Name()))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	busName := "ingest-bus-" + strings.ToLower(t.Name())
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(busName)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String(busName),
		EventPattern: aws.String(`{"source": [{"prefix": ""}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String(busName),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	reg, err := events.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Bus: busName, API: eb, Schemas: reg}, sq, aws.ToString(q.QueueUrl)
}

func post(t *testing.T, srv *httptest.Server, contentType string, headers map[string]string, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/events", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIngestOverHTTP(t *testing.T) {
	h, sq, queue := setup(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	cases := []struct {
		name, contentType string
		headers           map[string]string
		body              string
		status            int
		want              string
	}{
		{"structured", "application/cloudevents+json", nil, order, 202, `"accepted":["ord-1"]`},
		{"binary", "application/json", map[string]string{"ce-specversion": "1.0", "ce-id": "pay-1", "ce-source": "urn:pay", "ce-type": "io.eventplane.demo.payment.captured.v1"},
			`{"paymentId":"p-1","amount":3}`, 202, `"accepted":["pay-1"]`},
		{"batch", "application/cloudevents-batch+json", nil, "[" + order + "," + strings.Replace(order, "ord-1", "ord-2", 1) + "]", 202, `"accepted":["ord-1","ord-2"]`},
		{"unknown type passes unvalidated", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"x-1","source":"s","type":"com.example.other.v1","data":{"a":1}}`, 202, `"x-1"`},
		{"not a CloudEvent", "application/json", nil, `{"hello":"world"}`, 400, "not a CloudEvent"},
		{"missing type", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"1","source":"s"}`, 400, "type"},
		{"broken JSON", "application/cloudevents+json", nil, `{"specversion":`, 400, "invalid CloudEvent"},
		{"schema violation", "application/cloudevents+json", nil, strings.Replace(order, `"EUR"`, `"euro"`, 1), 400, "/currency"},
		{"bad event in a batch", "application/cloudevents-batch+json", nil, "[" + order + `,{"specversion":"1.0","id":"2","source":"s"}]`, 400, `"index":1`},
		{"oversize event", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"big","source":"s","type":"t","datacontenttype":"application/json","data":{"x":"` + strings.Repeat("a", 300<<10) + `"}}`, 413, "over EventBridge's limit"},
		{"non-string data_base64 (sdk-go panics on it)", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":1}`, 400, "data_base64"},
		{"non-string data_base64 in a batch", "application/cloudevents-batch+json", nil, `[{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":1}]`, 400, `"index":0`},
		{"reserved aws. source", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"1","source":"aws.s3","type":"t"}`, 400, "aws. prefix is reserved"},
		{"type longer than detail-type allows", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"1","source":"s","type":"` + strings.Repeat("t", 129) + `"}`, 400, "limit of 128"},
		{"reserved data member", "application/cloudevents+json", nil, `{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/json","data":{"_cloudevent":{}}}`, 400, "reserved"},
		{"oversize body", "application/cloudevents+json", nil, strings.Repeat(" ", MaxBodyBytes+10), 413, "exceeds the limit"},
	}
	for _, c := range cases {
		status, body := post(t, srv, c.contentType, c.headers, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d containing %q", c.name, status, body, c.status, c.want)
		}
	}
	// The accepted events reached the bus and, through its rule, the queue.
	got := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 5 && time.Now().Before(deadline) {
		out, err := sq.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var eb struct {
				DetailType string `json:"detail-type"`
				Source     string `json:"source"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &eb)
			got[eb.DetailType+"|"+eb.Source+"|"+aws.ToString(m.MessageId)] = true
		}
	}
	if len(got) != 5 {
		t.Fatalf("%d events reached the queue, want the 5 accepted: %v", len(got), got)
	}
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

type downBus struct{}

func (downBus) PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return nil, errors.New("connection refused")
}

func TestIngestThroughAPIGatewayPayloads(t *testing.T) {
	h, _, _ := setup(t)
	v2, err := h.APIGatewayV2(context.Background(), lambdaevents.APIGatewayV2HTTPRequest{
		RequestContext:  lambdaevents.APIGatewayV2HTTPRequestContext{HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
		Headers:         map[string]string{"content-type": "application/cloudevents+json"},
		Body:            base64.StdEncoding.EncodeToString([]byte(order)),
		IsBase64Encoded: true,
	})
	if err != nil || v2.StatusCode != 202 {
		t.Fatalf("v2: %v %+v", err, v2)
	}
	v1, err := h.APIGatewayV1(context.Background(), lambdaevents.APIGatewayProxyRequest{HTTPMethod: "POST",
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json"}, "Ce-Specversion": {"1.0"}, "Ce-Id": {"b-1"},
			"Ce-Source": {"s"}, "Ce-Type": {"t"}}, Body: `{"a":1}`})
	if err != nil || v1.StatusCode != 202 || !strings.Contains(v1.Body, "b-1") {
		t.Fatalf("v1: %v %+v", err, v1)
	}
	h.API = downBus{}
	v2, _ = h.APIGatewayV2(context.Background(), lambdaevents.APIGatewayV2HTTPRequest{
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
		Headers:        map[string]string{"content-type": "application/cloudevents+json"}, Body: order})
	if v2.StatusCode != 503 || !strings.Contains(v2.Body, "unavailable") {
		t.Fatalf("bus down: %+v", v2)
	}
}
