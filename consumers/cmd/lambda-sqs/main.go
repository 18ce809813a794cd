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
// EVENTPLANE_FALLBACK_TYPE, AWS_REGION, EVENTPLANE_ENDPOINT (emulators).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/emf"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/route"
)

type function struct {
	norm   event.Normalizer
	router *route.Router[engine.Handler]
	sqs    *sqs.Client
	dlq    string
	log    *slog.Logger
	emf    *emf.Lambda
}

func main() {
	f, err := setup(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambda-sqs:", err)
		os.Exit(2)
	}
	lambda.Start(f.handle)
}

func setup(ctx context.Context) (*function, error) {
	var routes []config.Route
	if err := json.Unmarshal([]byte(os.Getenv("EVENTPLANE_ROUTES")), &routes); err != nil || len(routes) == 0 {
		return nil, fmt.Errorf("EVENTPLANE_ROUTES must be a non-empty JSON array of routes: %v", err)
	}
	em := emf.NewLambda(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	cfg, err := awsconf.Load(ctx, awsconf.Options{Endpoint: os.Getenv("EVENTPLANE_ENDPOINT"), OnRequest: em.OnRequest})
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	reg := handlers.NewRegistry()
	var rs []route.Route[engine.Handler]
	for _, rc := range routes {
		h, err := reg.Build(ctx, rc.Handler, handlers.NewDeps(log, cfg), rc.Options)
		if err != nil {
			return nil, fmt.Errorf("route %q: %w", rc.Name, err)
		}
		rs = append(rs, route.Route[engine.Handler]{Name: rc.Name, Pattern: string(rc.Pattern), Handler: h})
	}
	router, err := route.NewRouter(rs...)
	if err != nil {
		return nil, err
	}
	return &function{norm: event.Normalizer{FallbackType: os.Getenv("EVENTPLANE_FALLBACK_TYPE")}, router: router,
		sqs: sqs.NewFromConfig(cfg), dlq: os.Getenv("EVENTPLANE_DEAD_LETTER_URL"), log: log, emf: em}, nil
}

func (f *function) handle(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	start := time.Now()
	defer func() {
		f.emf.Done(emf.Invocation{Route: "sqs", Events: len(batch.Records), Failed: len(resp.BatchItemFailures), Took: time.Since(start)})
	}()
	for _, rec := range batch.Records {
		if err := f.record(ctx, rec); err != nil {
			f.log.Warn("record failed", "message_id", rec.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// record processes one SQS record; a nil error deletes it.
func (f *function) record(ctx context.Context, rec events.SQSMessage) error {
	m := event.Message{Body: rec.Body, MessageID: rec.MessageId, QueueARN: rec.EventSourceARN, Attributes: rec.Attributes}
	for name, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			if m.MessageAttributes == nil {
				m.MessageAttributes = map[string]string{}
			}
			m.MessageAttributes[name] = *v.StringValue
		}
	}
	evs, ctl, err := f.norm.Normalize(nil, m)
	if err != nil {
		return f.deadLetter(ctx, rec, "undecodable: "+err.Error())
	}
	if ctl != nil {
		return nil
	}
	var buf [8]*route.Route[engine.Handler]
	for i := range evs {
		for _, rt := range f.router.Match(&evs[i], buf[:0]) {
			err := rt.Handler.Handle(ctx, &evs[i])
			switch {
			case err == nil || errors.Is(err, engine.ErrSkip):
			case engine.IsPermanent(err):
				return f.deadLetter(ctx, rec, "permanent: "+err.Error())
			default:
				return fmt.Errorf("route %s: %w", rt.Name, err)
			}
		}
	}
	return nil
}

// deadLetter sends rec to the dead-letter queue with its reason; without one
// it reports the failure so that the queue's redrive policy moves it.
func (f *function) deadLetter(ctx context.Context, rec events.SQSMessage, reason string) error {
	if f.dlq == "" {
		return errors.New(reason)
	}
	count, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	_, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.dlq), MessageBody: aws.String(rec.Body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			engine.AttrFailureReason: {DataType: aws.String("String"), StringValue: aws.String(reason)},
			engine.AttrSourceQueue:   {DataType: aws.String("String"), StringValue: aws.String(rec.EventSourceARN)},
			engine.AttrReceiveCount:  {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(count))},
		}})
	if err != nil {
		return fmt.Errorf("%s (and the dead-letter queue failed: %v)", reason, err)
	}
	return nil
}
