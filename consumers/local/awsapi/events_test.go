package awsapi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const orderDetail = `{"_cloudevent":{"specversion":"1.0","id":"o-9","source":"shop","datacontenttype":"application/json"},"orderId":"o-9","total":2000}`

// receiveOne long-polls one message of a queue with the SDK.
func (s *stack) receiveOne(t *testing.T, queue string) string {
	t.Helper()
	r, err := s.sqs().ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.queueURL(queue)), WaitTimeSeconds: 5})
	if err != nil || len(r.Messages) != 1 {
		t.Fatalf("receive from %s: %v %v", queue, r, err)
	}
	if _, err := s.sqs().DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.queueURL(queue)), ReceiptHandle: r.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(r.Messages[0].Body)
}

// PutEvents entries are matched by the topology's rules: an order on the
// main bus (by name or ARN) reaches order-analytics through the rule and
// the topic; a bad entry fails alone.
func TestPutEventsMatchedByTopologyRules(t *testing.T) {
	s := start(t, repoTopology)
	out, err := s.events().PutEvents(ctx(t), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("io.eventplane.demo.order.placed.v1"), Detail: aws.String(orderDetail),
			EventBusName: aws.String("arn:aws:events:local:000000000000:event-bus/local-main")},
		{Source: aws.String("shop"), Detail: aws.String("{}"), EventBusName: aws.String("local-main")},
		{Source: aws.String("shop"), DetailType: aws.String("x"), Detail: aws.String("{}"), EventBusName: aws.String("nope")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 2 || aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "InvalidArgument" ||
		aws.ToString(out.Entries[2].ErrorCode) != "ResourceNotFoundException" {
		t.Fatalf("PutEvents: %+v", out.Entries)
	}
	body := s.receiveOne(t, "order-analytics")
	if !strings.Contains(body, `"orderId":"o-9"`) || !strings.Contains(body, `"id":"`+aws.ToString(out.Entries[0].EventId)+`"`) {
		t.Errorf("order-analytics got %s", body)
	}
	many := make([]ebtypes.PutEventsRequestEntry, 11)
	for i := range many {
		many[i] = ebtypes.PutEventsRequestEntry{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String("{}")}
	}
	_, err = s.events().PutEvents(ctx(t), &eventbridge.PutEventsInput{Entries: many})
	var ve interface{ ErrorCode() string }
	if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
		t.Errorf("PutEvents of 11 entries: %v, want ValidationException", err)
	}
}

func TestRulesAndTestEventPattern(t *testing.T) {
	s := start(t, repoTopology)
	c := s.events()
	l, err := c.ListRules(ctx(t), &eventbridge.ListRulesInput{EventBusName: aws.String("local-main")})
	if err != nil || len(l.Rules) != 1 || aws.ToString(l.Rules[0].Name) != "orders-placed" || !strings.Contains(aws.ToString(l.Rules[0].EventPattern), "order.placed") {
		t.Fatalf("ListRules on local-main: %+v %v", l, err)
	}
	if l, err := c.ListRules(ctx(t), &eventbridge.ListRulesInput{}); err != nil || len(l.Rules) != 2 {
		t.Errorf("ListRules on default: %+v %v", l, err)
	}
	d, err := c.DescribeRule(ctx(t), &eventbridge.DescribeRuleInput{Name: aws.String("orders-placed"), EventBusName: aws.String("local-main")})
	if err != nil || aws.ToString(d.Arn) != "arn:aws:events:local:000000000000:rule/local-main/orders-placed" || d.State != ebtypes.RuleStateEnabled {
		t.Errorf("DescribeRule: %+v %v", d, err)
	}
	_, err = c.DescribeRule(ctx(t), &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
	var nf *ebtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeRule nope: %v, want ResourceNotFoundException", err)
	}
	event := `{"id":"1","account":"000000000000","source":"shop","time":"2026-11-26T17:10:00Z","region":"local","resources":[],"detail-type":"io.eventplane.demo.order.placed.v1","detail":{"total":2000}}`
	for pattern, want := range map[string]bool{
		aws.ToString(d.EventPattern):                    true,
		`{"detail":{"total":[{"numeric":[">",5000]}]}}`: false,
	} {
		r, err := c.TestEventPattern(ctx(t), &eventbridge.TestEventPatternInput{EventPattern: aws.String(pattern), Event: aws.String(event)})
		if err != nil || r.Result != want {
			t.Errorf("TestEventPattern %s: %v %v, want %v", pattern, r, err, want)
		}
	}
	_, err = c.TestEventPattern(ctx(t), &eventbridge.TestEventPatternInput{EventPattern: aws.String(`{"detail":{"total":[{"numeric":[">"]}]}}`), Event: aws.String(event)})
	var ip *ebtypes.InvalidEventPatternException
	if !errors.As(err, &ip) {
		t.Errorf("invalid pattern: %v, want InvalidEventPatternException", err)
	}
}

// SNS over the query protocol: Publish and PublishBatch to a topology
// topic reach its subscribed queue; ListTopics lists the topics; an
// unknown topic is NotFound.
func TestSNSPublishToTopologyTopics(t *testing.T) {
	s := start(t, repoTopology)
	c := s.sns()
	arn := "arn:aws:sns:local:000000000000:local-order-events"
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(`{"detail":{"total":1}}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if body := s.receiveOne(t, "order-analytics"); body != `{"detail":{"total":1}}` {
		t.Errorf("raw delivery: %s", body)
	}
	b, err := c.PublishBatch(ctx(t), &sns.PublishBatchInput{TopicArn: aws.String(arn), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("a"), Message: aws.String(`{"n":1}`)}, {Id: aws.String("b"), Message: aws.String("")}}})
	if err != nil || len(b.Successful) != 1 || len(b.Failed) != 1 || aws.ToString(b.Failed[0].Id) != "b" {
		t.Fatalf("PublishBatch: %+v %+v %v", b.Successful, b.Failed, err)
	}
	if body := s.receiveOne(t, "order-analytics"); body != `{"n":1}` {
		t.Errorf("batch delivery: %s", body)
	}
	lt, err := c.ListTopics(ctx(t), &sns.ListTopicsInput{})
	if err != nil || len(lt.Topics) != 2 {
		t.Errorf("ListTopics: %+v %v", lt, err)
	}
	_, err = c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn + "x"), Message: aws.String("m")})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("publish to a missing topic: %v, want NotFoundException", err)
	}
}
