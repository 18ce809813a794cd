// Command lambda-sqs runs the consumer core as an SQS-triggered AWS Lambda
// function, for teams that keep some queues on Lambda. Each record is
// normalized and routed exactly as the Kubernetes consumer does it; the
// function answers with a partial batch response (ReportBatchItemFailures):
// records whose handlers failed are retried by the queue, the others are
// deleted. With EVENTPLANE_DEAD_LETTER_URL set, undecodable records and
// permanent failures go straight to that queue with their reason instead of
// being retried until the redrive policy moves them.
//
// Environment: EVENTPLANE_ROUTES (JSON array of {name, pattern, handler,
// options}, as the consumer's --routes), EVENTPLANE_DEAD_LETTER_URL,
// EVENTPLANE_IDEMPOTENCY_TABLE (optional: the idempotency records, as the
// consumer's --idempotency-table), EVENTPLANE_FALLBACK_TYPE, AWS_REGION, EVENTPLANE_ENDPOINT (emulators).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/idempotency"
	"github.com/eventplane/eventplane/consumers/lambdametrics"
	"github.com/eventplane/eventplane/consumers/route"
	sqssource "github.com/eventplane/eventplane/consumers/sqs"
	"github.com/eventplane/eventplane/consumers/tracing"
)

type function struct {
	proc *delivery.Processor
	sqs  *sqs.Client
	dlq  string
	log  *slog.Logger
	emf  *lambdametrics.Lambda
}

func main() {
	slog.New(slog.NewJSONHandler(os.Stdout, nil)).Info("starting", "binary", "lambda-sqs", "version", buildinfo.Version())
	ctx := context.Background()
	tp, _, err := tracing.Start(ctx, os.Getenv, tracing.OTLPHTTP(os.Getenv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-sqs:", err)
		os.Exit(2)
	}
	f, err := setup(ctx, tp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-sqs:", err)
		os.Exit(2)
	}
	lambda.Start(otellambda.InstrumentHandler(f.handle, otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp),
		otellambda.WithPropagator(tracing.Propagator())))
}

func setup(ctx context.Context, tp trace.TracerProvider) (*function, error) {
	var routes []config.Route
	if err := json.Unmarshal([]byte(os.Getenv("EVENTPLANE_ROUTES")), &routes); err != nil || len(routes) == 0 {
		return nil, fmt.Errorf("EVENTPLANE_ROUTES must be a non-empty JSON array of routes: %v", err)
	}
	em := lambdametrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	cfg, err := awsconf.Load(ctx, awsconf.Options{Endpoint: os.Getenv("EVENTPLANE_ENDPOINT"), Tracer: tp, OnRequest: em.OnRequest})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	reg := handlers.NewRegistry()
	var mws []delivery.Middleware
	if table := os.Getenv("EVENTPLANE_IDEMPOTENCY_TABLE"); table != "" {
		mws = append(mws, idempotency.Middleware(idempotency.NewDynamoDB(dynamodb.NewFromConfig(cfg), table), idempotency.Options{}))
	}
	var rs []route.Route[delivery.Handler]
	for _, rc := range routes {
		h, err := reg.Build(ctx, rc.Handler, handlers.NewDeps(log, cfg), rc.Options)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", rc.Name, err)
		}
		rs = append(rs, route.Route[delivery.Handler]{Name: rc.Name, Pattern: string(rc.Pattern), Handler: delivery.Chain(h, mws...)})
	}
	proc, err := delivery.NewProcessor(delivery.ProcessorOptions{Normalizer: event.Normalizer{FallbackType: os.Getenv("EVENTPLANE_FALLBACK_TYPE")}, Routes: rs, Tracer: tp, Observer: em})
	if err != nil {
		return nil, err
	}
	return &function{proc: proc, sqs: sqs.NewFromConfig(cfg), dlq: os.Getenv("EVENTPLANE_DEAD_LETTER_URL"), log: log, emf: em}, nil
}

// handle processes a batch with the engine's settlement function and
// answers with a partial batch response (ReportBatchItemFailures): records
// to retry or release are reported, dead-lettered records go to the DLQ
// (or are reported when there is none, for the redrive policy), the rest are
// deleted by Lambda. On a FIFO queue the batch stops at the first failure
// and every later record is reported too, as Lambda requires.
func (f *function) handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	msgs := make([]delivery.Message, len(batch.Records))
	fifo := false
	for i, rec := range batch.Records {
		msgs[i] = message(rec)
		fifo = fifo || strings.HasSuffix(rec.EventSourceARN, ".fifo")
	}
	var resp events.SQSEventResponse
	for i, s := range f.proc.Process(ctx, msgs, fifo) {
		rec := batch.Records[i]
		if s.Outcome == delivery.Ack {
			continue
		}
		if s.Outcome == delivery.DeadLetter {
			if err := f.deadLetter(ctx, rec, s.Reason); err == nil {
				f.emf.DeadLetter(s.Kind)
				continue
			} else {
				f.log.Error("dead-letter failed: the record is reported for the redrive policy", "message_id", rec.MessageId, "error", err.Error())
			}
		}
		f.log.Warn("record not settled", "message_id", rec.MessageId, "outcome", s.Outcome.String(), "kind", s.Kind, "error", s.Err.Error())
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
	}
	_ = f.emf.Done(lambdametrics.Invocation{Events: len(batch.Records), Failed: len(resp.BatchItemFailures)}) // EMF lines on stdout
	return resp, nil
}

// message is an SQS record as the engine's message.
func message(rec events.SQSMessage) delivery.Message {
	m := event.Message{Body: rec.Body, MessageID: rec.MessageId, QueueARN: rec.EventSourceARN, Attributes: rec.Attributes}
	for name, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			if m.MessageAttributes == nil {
				m.MessageAttributes = map[string]string{}
			}
			m.MessageAttributes[name] = *v.StringValue
		}
	}
	count, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	return delivery.Message{Message: m, Receipt: rec.ReceiptHandle, ReceiveCount: count, GroupID: rec.Attributes["MessageGroupId"]}
}

// deadLetter sends rec to the dead-letter queue with its reason; without one
// it reports the failure so that the queue's redrive policy moves it.
func (f *function) deadLetter(ctx context.Context, rec events.SQSMessage, reason string) error {
	if f.dlq == "" {
		return errors.New("no EVENTPLANE_DEAD_LETTER_URL: " + reason)
	}
	count, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	in := &sqs.SendMessageInput{QueueUrl: aws.String(f.dlq), MessageBody: aws.String(rec.Body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{delivery.
			AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String(reason)}, delivery.
			AttrSourceQueue: {DataType: aws.String("String"), StringValue: aws.String(rec.EventSourceARN)}, delivery.
			AttrReceiveCount: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(count))},
		}, MessageSystemAttributes: sqssource.TraceAttribute(ctx, rec.Attributes["AWSTraceHeader"])}
	if strings.HasSuffix(f.dlq, ".fifo") {
		in.MessageGroupId = aws.String(cmp.Or(rec.Attributes["MessageGroupId"], "dead-letter"))
		in.MessageDeduplicationId = aws.String(rec.MessageId)
	}
	if _, err := f.sqs.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("%s (and the dead-letter queue failed: %w)", reason, err)
	}
	return nil
}
