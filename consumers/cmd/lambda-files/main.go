// Command lambda-files is the file pipeline as an AWS Lambda function:
// invoked by an EventBridge rule for S3 "Object Created" (or directly by S3
// notifications), it normalizes the invocation into CloudEvents and runs the
// file handler — the same core as the Kubernetes consumer. Results are
// written with deterministic keys, so Lambda's retries do no harm.
//
// Environment: EVENTPLANE_FILES_TABLE (results table), EVENTPLANE_BUS
// (optional: completion events), EVENTPLANE_REQUIRED and
// EVENTPLANE_NUMERIC (optional, comma-separated field names), AWS_REGION.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/emf"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/handlers"
)

func main() {
	em := emf.NewLambda(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	h, err := newFile(context.Background(), em.OnRequest)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-files:", err)
		os.Exit(2)
	}
	var n event.Normalizer
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (err error) {
		start := time.Now()
		defer func() { em.Done(emf.Invocation{Route: "file", Events: 1, Err: err, Took: time.Since(start)}) }()
		evs, ctl, err := n.Normalize(nil, event.Message{Body: string(raw)})
		if err != nil {
			return err // an unusable invocation: Lambda's on-failure destination keeps it
		}
		if ctl != nil {
			return nil // s3:TestEvent
		}
		for i := range evs {
			if err := h.Handle(ctx, &evs[i]); err != nil && !engine.IsPermanent(err) {
				return err // retried by Lambda
			} else if err != nil {
				return fmt.Errorf("event %s: %w", evs[i].ID(), err)
			}
		}
		return nil
	})
}

func newFile(ctx context.Context, onRequest func(service, api string)) (*handlers.File, error) {
	table := os.Getenv("EVENTPLANE_FILES_TABLE")
	if table == "" {
		return nil, fmt.Errorf("EVENTPLANE_FILES_TABLE is empty: set the results table")
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Endpoint: os.Getenv("EVENTPLANE_ENDPOINT"), OnRequest: onRequest})
	if err != nil {
		return nil, err
	}
	return handlers.NewFile(handlers.FileAPI{S3: s3.NewFromConfig(cfg), DynamoDB: dynamodb.NewFromConfig(cfg), EventBridge: eventbridge.NewFromConfig(cfg)},
		handlers.FileOptions{Table: table, CompletionBus: os.Getenv("EVENTPLANE_BUS"), Required: list("EVENTPLANE_REQUIRED"), Numeric: list("EVENTPLANE_NUMERIC")})
}

func list(env string) []string {
	var out []string
	for _, s := range strings.Split(os.Getenv(env), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
