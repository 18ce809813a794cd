package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// AggregateOptions configure the aggregate handler.
type AggregateOptions struct {
	// Name of the report (default "report").
	Name string `json:"name,omitempty"`
	// SourceTable holds the items to aggregate: those the store handler
	// writes (eventType, eventOrder = event time in Unix nanoseconds).
	SourceTable string `json:"sourceTable"`
	// Window is the period before the trigger's time that the report covers
	// (default 1h).
	Window string `json:"window,omitempty"`
	// Sum names numeric item attributes to total per type (e.g. ["total"]).
	Sum []string `json:"sum,omitempty"`
	// ReportTable receives the report item (pk "report#<name>", sk = window start).
	ReportTable string `json:"reportTable"`
	// ReportBucket, when set, also receives the report as JSON under
	// <reportPrefix><name>/<window start>.json.
	ReportBucket string `json:"reportBucket,omitempty"`
	ReportPrefix string `json:"reportPrefix,omitempty"`
}

// AggregateAPI is what the aggregate handler needs from AWS.
type AggregateAPI struct {
	DynamoDB interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
		PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	}
	S3 interface {
		PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	}
}

// Aggregate computes, when triggered (typically by an EventBridge schedule),
// per-type counts and sums over the window that ends at the trigger event's
// time, and stores a report item in DynamoDB and a report object in S3. It
// scans the source table with a filter on the window: fine for the sizes a
// scheduled summary serves; for large tables query a time-keyed index or the
// data lake instead. Reports are keyed by window, so a redelivered trigger
// rewrites the same report.
type Aggregate struct {
	api    AggregateAPI
	opt    AggregateOptions
	window time.Duration
}

// Report is what the aggregate handler stores.
type Report struct {
	Name   string             `json:"name" dynamodbav:"name"`
	Start  time.Time          `json:"start" dynamodbav:"start"`
	End    time.Time          `json:"end" dynamodbav:"end"`
	Counts map[string]int     `json:"counts" dynamodbav:"counts"`
	Sums   map[string]float64 `json:"sums" dynamodbav:"sums"`
}

// NewAggregate builds an aggregate handler.
func NewAggregate(api AggregateAPI, opt AggregateOptions) (*Aggregate, error) {
	if opt.SourceTable == "" || opt.ReportTable == "" {
		return nil, errors.New("options.sourceTable and options.reportTable are required")
	}
	if opt.Name == "" {
		opt.Name = "report"
	}
	if opt.ReportPrefix == "" {
		opt.ReportPrefix = "reports/"
	}
	a := &Aggregate{api: api, opt: opt, window: time.Hour}
	if opt.Window != "" {
		d, err := time.ParseDuration(opt.Window)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("options.window: %q is not a positive duration", opt.Window)
		}
		a.window = d
	}
	if opt.ReportBucket != "" && api.S3 == nil {
		return nil, errors.New("options.reportBucket: no S3 client")
	}
	return a, nil
}

func newAggregate(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o AggregateOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if err := need("aggregate", map[string]bool{"DynamoDB": deps.DynamoDB != nil, "S3": deps.S3 != nil}); err != nil {
		return nil, err
	}
	return NewAggregate(AggregateAPI{DynamoDB: deps.DynamoDB, S3: deps.S3}, o)
}

// ManagesDuplicates marks the handler as its own deduplication: reports are
// keyed by window.
func (a *Aggregate) ManagesDuplicates() {}

// Handle implements delivery.Handler.
func (a *Aggregate) Handle(ctx context.Context, e *ce.Event) error {
	end := e.Time().UTC()
	if end.IsZero() {
		return delivery.Permanentf("aggregate: trigger event %s has no time", e.ID())
	}
	end = end.Truncate(time.Second)
	r := Report{Name: a.opt.Name, Start: end.Add(-a.window), End: end, Counts: map[string]int{}, Sums: map[string]float64{}}
	in := &dynamodb.ScanInput{
		TableName:        aws.String(a.opt.SourceTable),
		FilterExpression: aws.String("eventOrder >= :start AND eventOrder < :end"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":start": &types.AttributeValueMemberN{Value: strconv.FormatInt(r.Start.UnixNano(), 10)},
			":end":   &types.AttributeValueMemberN{Value: strconv.FormatInt(r.End.UnixNano(), 10)},
		},
	}
	for {
		out, err := a.api.DynamoDB.Scan(ctx, in)
		if err != nil {
			return fmt.Errorf("aggregate: scan %s: %w", a.opt.SourceTable, err)
		}
		for _, item := range out.Items {
			typ := "unknown"
			if s, ok := item["eventType"].(*types.AttributeValueMemberS); ok {
				typ = s.Value
			}
			r.Counts[typ]++
			for _, field := range a.opt.Sum {
				if n, ok := item[field].(*types.AttributeValueMemberN); ok {
					if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
						r.Sums[typ+"."+field] += v
					}
				}
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return delivery.Permanent(err)
	}
	item["pk"] = &types.AttributeValueMemberS{Value: "report#" + r.Name}
	item["sk"] = &types.AttributeValueMemberS{Value: r.Start.Format(time.RFC3339)}
	if _, err := a.api.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(a.opt.ReportTable), Item: item}); err != nil {
		return fmt.Errorf("aggregate: report item: %w", err)
	}
	if a.opt.ReportBucket == "" {
		return nil
	}
	body, _ := json.MarshalIndent(r, "", "  ")
	key := a.opt.ReportPrefix + r.Name + "/" + r.Start.Format("2006-01-02T15-04-05Z") + ".json"
	if _, err := a.api.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(a.opt.ReportBucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")}); err != nil {
		return fmt.Errorf("aggregate: report object s3://%s/%s: %w", a.opt.ReportBucket, key, err)
	}
	return nil
}
