package bootstrap

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/topology"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

type inventory struct {
	Queues, Topics, Tables, Rules, Subscriptions, Targets int
}

func count(t *testing.T, c Clients, prefix string) inventory {
	t.Helper()
	ctx := context.Background()
	var inv inventory
	qs, err := c.SQS.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	inv.Queues = len(qs.QueueUrls)
	ts, _ := c.SNS.ListTopics(ctx, &sns.ListTopicsInput{})
	for _, tp := range ts.Topics {
		if strings.Contains(aws.ToString(tp.TopicArn), ":"+prefix+"-") {
			inv.Topics++
			subs, _ := c.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
			inv.Subscriptions += len(subs.Subscriptions)
		}
	}
	tbs, _ := c.DynamoDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	for _, n := range tbs.TableNames {
		if strings.HasPrefix(n, prefix+"-") {
			inv.Tables++
		}
	}
	for _, bus := range []string{"default", prefix + "-main"} {
		rs, err := c.EventBridge.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String(bus), NamePrefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		inv.Rules += len(rs.Rules)
		for _, r := range rs.Rules {
			tg, _ := c.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: r.Name, EventBusName: aws.String(bus)})
			inv.Targets += len(tg.Targets)
		}
	}
	return inv
}

func TestApplyCreatesTheTopologyIdempotently(t *testing.T) {
	top, err := topology.Load("../../api/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClients(motoserver.Shared(t).Config())
	ctx := context.Background()
	res, err := Apply(ctx, c, top, "bt")
	if err != nil {
		t.Fatal(err)
	}
	first := count(t, c, "bt")
	dlqs := 0
	for _, q := range top.Queues {
		if q.HasDeadLetter() {
			dlqs++
		}
	}
	subs, targets := 0, 0
	for _, tp := range top.Topics {
		subs += len(tp.Subscriptions)
	}
	for _, r := range top.Rules {
		for _, tg := range r.Targets {
			if tg.Lambda == "" {
				targets++
			}
		}
	}
	targets += len(top.Schedules)
	want := inventory{Queues: len(top.Queues) + dlqs, Topics: len(top.Topics), Tables: len(top.Tables),
		Rules: len(top.Rules) + len(top.Schedules), Subscriptions: subs, Targets: targets}
	if first != want {
		t.Fatalf("created %+v, want %+v", first, want)
	}
	if _, err := Apply(ctx, c, top, "bt"); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second := count(t, c, "bt"); second != first {
		t.Fatalf("second run changed the inventory: %+v -> %+v", first, second)
	}
	b, _ := json.Marshal(res)
	for _, want := range []string{`"orders":"http://`, `"main":"bt-main"`, `"uploads":"bt-uploads"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("resources lack %s: %s", want, b)
		}
	}
	// The redrive policy points at the queue's dead-letter queue.
	attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(res.QueueURLs["orders"]), AttributeNames: []sqstypes.QueueAttributeName{"RedrivePolicy", "VisibilityTimeout"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(attrs.Attributes["RedrivePolicy"], "bt-orders-dlq") || attrs.Attributes["VisibilityTimeout"] != "60" {
		t.Fatalf("orders attributes = %v", attrs.Attributes)
	}
}

// The Terraform test's fixture, applied through the real APIs: the queue
// delay reaches SQS (GetQueueAttributes DelaySeconds) and the input
// transformer EventBridge (ListTargetsByRule), as Terraform's
// aws_sqs_queue.delay_seconds and aws_cloudwatch_event_target.input_transformer.
func TestApplyPassesDelayAndInputTransformer(t *testing.T) {
	top, err := topology.Load("../../terraform/testdata/topology-variants.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := NewClients(motoserver.Shared(t).Config())
	ctx := context.Background()
	res, err := Apply(ctx, c, top, "bv")
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(res.QueueURLs["ordered.fifo"]),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameDelaySeconds}})
	if err != nil {
		t.Fatal(err)
	}
	if got := attrs.Attributes["DelaySeconds"]; got != "5" {
		t.Errorf("ordered.fifo DelaySeconds = %q, want 5", got)
	}
	tg, err := c.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(Name("bv", "fan-out")), EventBusName: aws.String(res.Buses["business"])})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, x := range tg.Targets {
		if aws.ToString(x.Arn) != res.QueueARNs["ordered.fifo"] {
			continue
		}
		found = true
		if x.InputTransformer == nil || x.InputTransformer.InputPathsMap["id"] != "$.id" || aws.ToString(x.InputTransformer.InputTemplate) != `{"id": <id>}` {
			t.Errorf("ordered.fifo target input transformer = %+v", x.InputTransformer)
		}
	}
	if !found {
		t.Fatalf("no ordered.fifo target in %+v", tg.Targets)
	}
}
