// Package bootstrap creates everything a topology declares through the real
// AWS APIs — for moto, LocalStack or a sandbox account (production uses
// Terraform). It is idempotent: a second run finds every resource and changes
// nothing.
package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/topology"
)

// Clients are the AWS clients bootstrap uses.
type Clients struct {
	SQS         *sqs.Client
	SNS         *sns.Client
	EventBridge *eventbridge.Client
	DynamoDB    *dynamodb.Client
	S3          *s3.Client
}

// NewClients builds the clients from one configuration; S3 uses path-style
// addressing when an endpoint override is set (emulators).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		SQS: sqs.NewFromConfig(cfg), SNS: sns.NewFromConfig(cfg), EventBridge: eventbridge.NewFromConfig(cfg),
		DynamoDB: dynamodb.NewFromConfig(cfg),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if cfg.BaseEndpoint != nil {
				o.UsePathStyle = true
				o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
				o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			}
		}),
	}
}

// Resources are the physical names of what bootstrap created, by logical name.
type Resources struct {
	Prefix    string            `json:"prefix"`
	Buses     map[string]string `json:"buses"`
	QueueURLs map[string]string `json:"queueUrls"`
	QueueARNs map[string]string `json:"queueArns"`
	DLQURLs   map[string]string `json:"dlqUrls"`
	Topics    map[string]string `json:"topics"`
	Tables    map[string]string `json:"tables"`
	Buckets   map[string]string `json:"buckets"`
	Rules     map[string]string `json:"rules"`
}

// Names returns the physical names for resolving handler options.
func (r *Resources) Names() topology.Names {
	return topology.Names{Tables: r.Tables, Buckets: r.Buckets, Topics: r.Topics, Buses: r.Buses, Queues: r.QueueURLs}
}

// Name returns the physical name of a logical one ("<prefix>-<name>", FIFO
// suffix kept last).
func Name(prefix, logical string) string {
	if base, ok := strings.CutSuffix(logical, ".fifo"); ok {
		return prefix + "-" + base + ".fifo"
	}
	return prefix + "-" + logical
}

func dlqName(prefix, logical string) string {
	if base, ok := strings.CutSuffix(logical, ".fifo"); ok {
		return prefix + "-" + base + "-dlq.fifo"
	}
	return prefix + "-" + logical + "-dlq"
}

// Apply creates (or finds) every resource of t, named with prefix. Lambda
// targets are skipped: functions are deployed by Terraform or run locally.
func Apply(ctx context.Context, c Clients, t *topology.Topology, prefix string) (*Resources, error) {
	r := &Resources{Prefix: prefix, Buses: map[string]string{}, QueueURLs: map[string]string{}, QueueARNs: map[string]string{},
		DLQURLs: map[string]string{}, Topics: map[string]string{}, Tables: map[string]string{}, Buckets: map[string]string{}, Rules: map[string]string{}}
	steps := []func(context.Context, Clients, *topology.Topology, *Resources) error{
		queues, topics, tables, buckets, buses, rules, schedules,
	}
	for _, step := range steps {
		if err := step(ctx, c, t, r); err != nil {
			return r, err
		}
	}
	return r, nil
}

func queueARN(ctx context.Context, c Clients, url string) (string, error) {
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	return out.Attributes["QueueArn"], nil
}

func queues(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, q := range t.Queues {
		attrs := map[string]string{}
		if q.FIFO {
			attrs["FifoQueue"] = "true"
			attrs["ContentBasedDeduplication"] = "true"
		}
		if q.HasDeadLetter() {
			dattrs := map[string]string{"MessageRetentionPeriod": "1209600"}
			for k, v := range attrs {
				dattrs[k] = v
			}
			d, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(dlqName(r.Prefix, q.Name)), Attributes: dattrs})
			if err != nil {
				return fmt.Errorf("queue %s dead-letter queue: %w", q.Name, err)
			}
			r.DLQURLs[q.Name] = aws.ToString(d.QueueUrl)
			darn, err := queueARN(ctx, c, aws.ToString(d.QueueUrl))
			if err != nil {
				return err
			}
			redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": darn, "maxReceiveCount": q.MaxReceiveCount})
			attrs["RedrivePolicy"] = string(redrive)
		}
		if q.VisibilityTimeoutSeconds > 0 {
			attrs["VisibilityTimeout"] = strconv.Itoa(q.VisibilityTimeoutSeconds)
		}
		if q.RetentionSeconds > 0 {
			attrs["MessageRetentionPeriod"] = strconv.Itoa(q.RetentionSeconds)
		}
		// Always set, so that removing the field resets SQS's delay to 0.
		attrs["DelaySeconds"] = strconv.Itoa(q.DelaySeconds)
		out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(Name(r.Prefix, q.Name))})
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.Name, err)
		}
		url := aws.ToString(out.QueueUrl)
		// Attributes are set separately so that a second run (or a queue made
		// by hand) converges instead of failing on differing attributes.
		if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: without(attrs, "FifoQueue")}); err != nil {
			return fmt.Errorf("queue %s attributes: %w", q.Name, err)
		}
		r.QueueURLs[q.Name] = url
		if r.QueueARNs[q.Name], err = queueARN(ctx, c, url); err != nil {
			return err
		}
	}
	return nil
}

func without(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func topics(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, tp := range t.Topics {
		out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(Name(r.Prefix, tp.Name))})
		if err != nil {
			return fmt.Errorf("topic %s: %w", tp.Name, err)
		}
		arn := aws.ToString(out.TopicArn)
		r.Topics[tp.Name] = arn
		existing := map[string]bool{}
		subs, err := c.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("topic %s subscriptions: %w", tp.Name, err)
		}
		for _, s := range subs.Subscriptions {
			existing[aws.ToString(s.Endpoint)] = true
		}
		for _, s := range tp.Subscriptions {
			qarn := r.QueueARNs[s.Queue]
			if existing[qarn] {
				continue
			}
			attrs := map[string]string{}
			if s.RawMessageDelivery == nil || *s.RawMessageDelivery {
				attrs["RawMessageDelivery"] = "true"
			}
			if len(s.FilterPolicy) > 0 {
				attrs["FilterPolicy"] = string(s.FilterPolicy)
				if s.FilterPolicyScope != "" {
					attrs["FilterPolicyScope"] = s.FilterPolicyScope
				}
			}
			if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"),
				Endpoint: aws.String(qarn), Attributes: attrs, ReturnSubscriptionArn: true}); err != nil {
				return fmt.Errorf("topic %s subscription %s: %w", tp.Name, s.Queue, err)
			}
		}
	}
	return nil
}

func tables(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, tb := range t.Tables {
		name := Name(r.Prefix, tb.Name)
		r.Tables[tb.Name] = name
		attrs := map[string]string{tb.HashKey.Name: tb.HashKey.Type}
		schema := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(tb.HashKey.Name), KeyType: ddbtypes.KeyTypeHash}}
		if tb.RangeKey != nil {
			attrs[tb.RangeKey.Name] = tb.RangeKey.Type
			schema = append(schema, ddbtypes.KeySchemaElement{AttributeName: aws.String(tb.RangeKey.Name), KeyType: ddbtypes.KeyTypeRange})
		}
		var gsis []ddbtypes.GlobalSecondaryIndex
		for _, g := range tb.GlobalSecondaryIndexes {
			attrs[g.HashKey.Name] = g.HashKey.Type
			ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(g.HashKey.Name), KeyType: ddbtypes.KeyTypeHash}}
			if g.RangeKey != nil {
				attrs[g.RangeKey.Name] = g.RangeKey.Type
				ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(g.RangeKey.Name), KeyType: ddbtypes.KeyTypeRange})
			}
			projection := ddbtypes.ProjectionTypeAll
			if g.ProjectionType != "" {
				projection = ddbtypes.ProjectionType(g.ProjectionType)
			}
			gsis = append(gsis, ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(g.Name), KeySchema: ks,
				Projection: &ddbtypes.Projection{ProjectionType: projection}})
		}
		var defs []ddbtypes.AttributeDefinition
		for n, typ := range attrs {
			defs = append(defs, ddbtypes.AttributeDefinition{AttributeName: aws.String(n), AttributeType: ddbtypes.ScalarAttributeType(typ)})
		}
		_, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: defs, KeySchema: schema, GlobalSecondaryIndexes: gsis,
			SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(true)}})
		var inUse *ddbtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("table %s: %w", tb.Name, err)
		}
		if tb.TTLAttribute != "" {
			if err := ensureTTL(ctx, c, tb.Name, name, tb.TTLAttribute); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureTTL turns TTL on for attr unless it already is. DynamoDB answers an
// UpdateTimeToLive on a table whose TTL is already on — and any second change
// within an hour of the first — with a ValidationException (UpdateTimeToLive
// API reference), an error code shared with every malformed request; so the
// state is read (DescribeTimeToLive) rather than the error guessed from its
// text. TTL on another attribute is an error: DynamoDB changes the attribute
// only by turning TTL off and on again, which bootstrap must not do by itself.
func ensureTTL(ctx context.Context, c Clients, logical, table, attr string) error {
	d, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("table %s TTL: %w", logical, err)
	}
	if desc := d.TimeToLiveDescription; desc != nil {
		switch current := aws.ToString(desc.AttributeName); desc.TimeToLiveStatus {
		case ddbtypes.TimeToLiveStatusEnabled, ddbtypes.TimeToLiveStatusEnabling:
			if current == attr {
				return nil
			}
			return fmt.Errorf("table %s: TTL is on attribute %q but the topology asks for %q; DynamoDB changes it only by turning TTL off and on again, which bootstrap does not do", logical, current, attr)
		case ddbtypes.TimeToLiveStatusDisabling:
			return fmt.Errorf("table %s: TTL (attribute %q) is being turned off; run again once DescribeTimeToLive reports DISABLED", logical, current)
		}
	}
	if _, err := c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}}); err != nil {
		return fmt.Errorf("table %s TTL: %w", logical, err)
	}
	return nil
}

func buckets(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, b := range t.Buckets {
		name := Name(r.Prefix, b.Name)
		r.Buckets[b.Name] = name
		_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		var owned *s3types.BucketAlreadyOwnedByYou
		if err != nil && !errors.As(err, &owned) {
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
		if b.EventBridge {
			if _, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String(name),
				NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}); err != nil {
				return fmt.Errorf("bucket %s notifications: %w", b.Name, err)
			}
		}
	}
	return nil
}

func buses(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, b := range t.Buses {
		name := Name(r.Prefix, b.Name)
		r.Buses[b.Name] = name
		_, err := c.EventBridge.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
		var exists *ebtypes.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("bus %s: %w", b.Name, err)
		}
	}
	return nil
}

func busName(r *Resources, logical string) string {
	if logical == "default" {
		return "default"
	}
	return r.Buses[logical]
}

func rules(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, rule := range t.Rules {
		name := Name(r.Prefix, rule.Name)
		out, err := c.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: aws.String(busName(r, rule.Bus)),
			EventPattern: aws.String(string(rule.Pattern)), Description: aws.String(rule.Description), State: ebtypes.RuleStateEnabled})
		if err != nil {
			return fmt.Errorf("rule %s: %w", rule.Name, err)
		}
		r.Rules[rule.Name] = aws.ToString(out.RuleArn)
		var targets []ebtypes.Target
		for i, tg := range rule.Targets {
			var arn string
			var sqsParams *ebtypes.SqsParameters
			switch {
			case tg.Queue != "":
				arn = r.QueueARNs[tg.Queue]
				sqsParams = fifoGroup(tg.Queue)
			case tg.Topic != "":
				arn = r.Topics[tg.Topic]
			default:
				continue // Lambda targets are deployed by Terraform
			}
			et := ebtypes.Target{Id: aws.String(strconv.Itoa(i)), Arn: aws.String(arn), SqsParameters: sqsParams}
			if tg.DeadLetterQueue != "" {
				et.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: aws.String(r.QueueARNs[tg.DeadLetterQueue])}
			}
			if tg.Retry != nil {
				et.RetryPolicy = &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(int32(tg.Retry.MaximumRetryAttempts)), // #nosec G115 -- topology values, validated to EventBridge's limits (0..185)
					MaximumEventAgeInSeconds: aws.Int32(int32(tg.Retry.MaximumEventAgeSeconds))} // #nosec G115 -- topology values, validated to EventBridge's limits (60..86400)
			}
			if tg.InputPath != "" {
				et.InputPath = aws.String(tg.InputPath)
			}
			if it := tg.InputTransformer; it != nil {
				et.InputTransformer = &ebtypes.InputTransformer{InputPathsMap: it.InputPathsMap, InputTemplate: aws.String(it.InputTemplate)}
			}
			targets = append(targets, et)
		}
		if len(targets) == 0 {
			continue
		}
		pt, err := c.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: aws.String(busName(r, rule.Bus)), Targets: targets})
		if err != nil {
			return fmt.Errorf("rule %s targets: %w", rule.Name, err)
		}
		if pt.FailedEntryCount > 0 {
			return fmt.Errorf("rule %s: %d targets failed: %s", rule.Name, pt.FailedEntryCount, aws.ToString(pt.FailedEntries[0].ErrorMessage))
		}
	}
	return nil
}

func schedules(ctx context.Context, c Clients, t *topology.Topology, r *Resources) error {
	for _, s := range t.Schedules {
		name := Name(r.Prefix, s.Name)
		out, err := c.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), ScheduleExpression: aws.String(s.Expression),
			Description: aws.String(s.Description), State: ebtypes.RuleStateEnabled})
		if err != nil {
			return fmt.Errorf("schedule %s: %w", s.Name, err)
		}
		r.Rules[s.Name] = aws.ToString(out.RuleArn)
		if _, err := c.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name),
			Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(r.QueueARNs[s.Queue]), SqsParameters: fifoGroup(s.Queue)}}}); err != nil {
			return fmt.Errorf("schedule %s target: %w", s.Name, err)
		}
	}
	return nil
}

// fifoGroup is the SqsParameters of a target queue: a FIFO queue needs a
// MessageGroupId (EventBridge's SQS target parameters: "required for FIFO
// queues"); one group, "eventbridge", as the local bus uses.
func fifoGroup(queue string) *ebtypes.SqsParameters {
	if !strings.HasSuffix(queue, ".fifo") {
		return nil
	}
	return &ebtypes.SqsParameters{MessageGroupId: aws.String("eventbridge")}
}
