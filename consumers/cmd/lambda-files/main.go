// Command lambda-files is the file pipeline as an AWS Lambda function:
// invoked by an EventBridge rule for S3 "Object Created" (or directly by S3
// notifications), it normalizes the invocation into CloudEvents and runs the
// file handler — the same core and the same settlement function
// (delivery.Processor) as the Kubernetes consumer. Results are written with
// deterministic keys, so Lambda's retries do no harm. A retryable failure
// returns an error: Lambda retries it by the function's asynchronous policy
// (Terraform: 2 retries, then the on-failure destination). A permanent one
// (a file of unknown format, a bad event) goes to EVENTPLANE_DEAD_LETTER_URL
// with its reason and the invocation succeeds, so it is not retried; without
// that queue it is an error like any other.
//
// Environment: EVENTPLANE_FILES_TABLE (results table), EVENTPLANE_BUS
// (optional: completion events), EVENTPLANE_REQUIRED and
// EVENTPLANE_NUMERIC (optional, comma-separated field names),
// EVENTPLANE_DEAD_LETTER_URL (optional), AWS_REGION.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/lambdametrics"
	"github.com/eventplane/eventplane/consumers/route"
	sqssource "github.com/eventplane/eventplane/consumers/sqs"
	"github.com/eventplane/eventplane/consumers/tracing"
)

func main() {
	slog.New(slog.NewJSONHandler(os.Stdout, nil)).Info("starting", "binary", "lambda-files", "version", buildinfo.Version())
	ctx := context.Background()
	tp, _, err := tracing.Start(ctx, os.Getenv, tracing.OTLPHTTP(os.Getenv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-files:", err)
		os.Exit(2)
	}
	em := lambdametrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	cfg, err := awsconf.Load(ctx, awsconf.Options{Endpoint: os.Getenv("EVENTPLANE_ENDPOINT"), Tracer: tp, OnRequest: em.OnRequest})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-files:", err)
		os.Exit(2)
	}
	h, err := newFile(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-files:", err)
		os.Exit(2)
	}
	proc, err := delivery.NewProcessor(delivery.ProcessorOptions{System: "aws_lambda", Tracer: tp, Observer: em, Routes: []route.Route[delivery.Handler]{{Name: "files", Handler: h}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-files:", err)
		os.Exit(2)
	}
	deadLetter := deadLetterQueue(cfg, os.Getenv("EVENTPLANE_DEAD_LETTER_URL"))
	lambda.Start(otellambda.InstrumentHandler(func(ctx context.Context, raw json.RawMessage) error {
		var dl func(context.Context, string) error
		if deadLetter != nil {
			dl = func(ctx context.Context, reason string) error { return deadLetter(ctx, raw, reason) }
		}
		err := proc.Invocation(ctx, raw, dl)
		_ = em.Done(lambdametrics.Invocation{Events: 1, Err: err}) // EMF lines on stdout
		return err
	}, otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp), otellambda.WithPropagator(tracing.Propagator())))
}

// deadLetterQueue sends an invocation's event to the queue at url with its
// reason (nil without a url).
func deadLetterQueue(cfg aws.Config, url string) func(ctx context.Context, raw []byte, reason string) error {
	if url == "" {
		return nil
	}
	client := sqs.NewFromConfig(cfg)
	return func(ctx context.Context, raw []byte, reason string) error {
		_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(raw)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{delivery.
				AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String(reason)}, delivery.
				AttrSourceQueue: {DataType: aws.String("String"), StringValue: aws.String("lambda:files")},
			}, MessageSystemAttributes: sqssource.TraceAttribute(ctx, "")})
		return err
	}
}

func newFile(cfg aws.Config) (*handlers.File, error) {
	table := os.Getenv("EVENTPLANE_FILES_TABLE")
	if table == "" {
		return nil, fmt.Errorf("EVENTPLANE_FILES_TABLE is empty: set the results table")
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
