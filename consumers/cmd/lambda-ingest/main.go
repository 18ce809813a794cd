// Command lambda-ingest is the HTTP ingest API as an AWS Lambda function
// behind API Gateway (HTTP API v2 or REST v1 payloads), or — with --http
// ADDR or EVENTPLANE_HTTP_ADDR — the same handler on a local HTTP server.
//
// Environment: EVENTPLANE_BUS (the bus name), AWS_REGION; in local mode
// EVENTPLANE_ENDPOINT may point the EventBridge client at an emulator.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-lambda-go/otellambda"
	"go.opentelemetry.io/otel/trace"

	apievents "github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/ingest"
	"github.com/eventplane/eventplane/consumers/lambdametrics"
	"github.com/eventplane/eventplane/consumers/tracing"
)

func main() {
	addr := flag.String("http", os.Getenv("EVENTPLANE_HTTP_ADDR"), "serve the API on `ADDR` instead of running as a Lambda function")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	log.Info("starting", "binary", "lambda-ingest", "version", buildinfo.Version())
	tp, stop, err := tracing.Start(context.Background(), os.Getenv, tracing.OTLPHTTP(os.Getenv))
	if err != nil {
		log.Error("lambda-ingest: tracing", "error", err.Error())
		os.Exit(2)
	}
	defer func() { _ = stop(context.Background()) }()
	em := lambdametrics.New(os.Stdout, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"))
	h, err := newHandler(context.Background(), tp, em.OnRequest)
	if err != nil {
		log.Error("lambda-ingest: configuration", "error", err.Error())
		os.Exit(2)
	}
	if *addr != "" {
		srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
		log.Info("serving the ingest API", "addr", *addr, "bus", h.Bus)
		if err := srv.ListenAndServe(); err != nil {
			log.Error("lambda-ingest", "error", err.Error())
			os.Exit(1)
		}
		return
	}
	lambda.Start(otellambda.InstrumentHandler(func(ctx context.Context, raw json.RawMessage) (resp any, err error) {
		start := time.Now()
		defer func() {
			em.Handled("ingest", time.Since(start), err)
			_ = em.Done(lambdametrics.Invocation{Events: 1, Err: err})
		}()
		// HTTP API (payload format 2.0) carries "version":"2.0"; REST does not.
		var probe struct {
			Version string `json:"version"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.Version == "2.0" {
			var req events.APIGatewayV2HTTPRequest
			if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&req); err != nil {
				return nil, fmt.Errorf("not an API Gateway HTTP API request: %w", err)
			}
			return h.APIGatewayV2(ctx, req)
		}
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("not an API Gateway request: %w", err)
		}
		return h.APIGatewayV1(ctx, req)
	}, otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp), otellambda.WithPropagator(tracing.Propagator())))
}

func newHandler(ctx context.Context, tp trace.TracerProvider, onRequest func(service, api string)) (*ingest.Handler, error) {
	bus := os.Getenv("EVENTPLANE_BUS")
	if bus == "" {
		return nil, fmt.Errorf("EVENTPLANE_BUS is empty: set the name of the event bus")
	}
	cfg, err := awsconf.Load(ctx, awsconf.Options{Endpoint: os.Getenv("EVENTPLANE_ENDPOINT"), Tracer: tp, OnRequest: onRequest})
	if err != nil {
		return nil, err
	}
	schemas, err := apievents.Load()
	if err != nil {
		return nil, err
	}
	return &ingest.Handler{Bus: bus, API: eventbridge.NewFromConfig(cfg), Schemas: schemas, Tracer: tp}, nil
}
