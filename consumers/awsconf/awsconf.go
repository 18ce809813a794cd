// Package awsconf loads the AWS SDK configuration shared by every adapter:
// region, an optional endpoint override (moto, LocalStack), and a middleware
// that counts every request attempt by service and API — the figures users
// pay for.
package awsconf

//lint:file-ignore SA1019 otelaws is marked deprecated upstream but is still the OpenTelemetry contrib instrumentation of aws-sdk-go-v2 (the SDK's own smithyoteltracing is not served here)

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	"go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws" //nolint:staticcheck // SA1019: deprecated upstream for the SDK's own smithy tracing; moving to it is its own change (issue 17 report)
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/trace"
)

// Options select how to reach AWS.
type Options struct {
	// Region overrides the region of the default chain (AWS_REGION, profile).
	Region string
	// Profile selects a shared config/credentials profile (default: the
	// chain's, i.e. AWS_PROFILE or "default").
	Profile string
	// Endpoint overrides every service's endpoint (for emulators).
	Endpoint string
	// OnRequest is called once per request attempt with the service id and
	// operation name (e.g. "SQS", "DeleteMessageBatch").
	OnRequest func(service, api string)
	// AttemptTimeout bounds each attempt of every call (default
	// DefaultAttemptTimeout; negative: none). The SDK sets no such limit, so
	// without it a hung endpoint holds a call until its caller gives up.
	AttemptTimeout time.Duration
	// Tracer, when set, gives every AWS SDK call a client span (otelaws)
	// and sends the X-Ray header (X-Amzn-Trace-Id) with each request.
	Tracer trace.TracerProvider
}

// DefaultAttemptTimeout is the default time limit of one request attempt.
const DefaultAttemptTimeout = 4 * time.Second

// Load returns an aws.Config from the default credential and region chain,
// with opts applied.
func Load(ctx context.Context, opts Options) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("aws config: no region: set --region, AWS_REGION or a profile region")
	}
	if opts.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(opts.Endpoint)
	}
	timeout := opts.AttemptTimeout
	if timeout == 0 {
		timeout = DefaultAttemptTimeout
	}
	if timeout > 0 {
		cfg.APIOptions = append(cfg.APIOptions, AttemptTimeout(timeout))
	}
	if opts.OnRequest != nil {
		cfg.APIOptions = append(cfg.APIOptions, CountRequests(opts.OnRequest))
	}
	if opts.Tracer != nil {
		// DefaultAttributeBuilder picks the DynamoDB, S3, SQS or SNS builder by
		// the call's service id. Listing those builders beside it ran each
		// on every call (they do not check the service): an SQS span said
		// messaging.system aws_sns and db.system.name aws.dynamodb, and every
		// call built its attributes twice, reflecting over its input for S3.
		otelaws.AppendMiddlewares(&cfg.APIOptions, otelaws.WithTracerProvider(opts.Tracer), otelaws.WithTextMapPropagator(xray.Propagator{}),
			otelaws.WithAttributeBuilder(otelaws.DefaultAttributeBuilder))
	}
	return cfg, nil
}

// CountRequests returns an API option that calls fn for every attempt
// (it sits after the retry middleware, so retries count too).
func CountRequests(fn func(service, api string)) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("eventplaneCountRequests",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				fn(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

type waitKey struct{}

// AttemptTimeout returns an API option that cancels each request attempt
// after d (it sits after the retry middleware, so the SDK retries a timed-out
// attempt like a dropped connection and the caller sees the error after its
// retries). An SQS long poll's wait time is added to d. S3 GetObject is
// exempt: its body streams to the caller after the attempt returns.
func AttemptTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("eventplaneLongPollWait",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if rm, ok := in.Parameters.(*sqs.ReceiveMessageInput); ok && rm.WaitTimeSeconds > 0 {
					ctx = context.WithValue(ctx, waitKey{}, time.Duration(rm.WaitTimeSeconds)*time.Second)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before); err != nil {
			return err
		}
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("eventplaneAttemptTimeout",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetServiceID(ctx) == "S3" && awsmiddleware.GetOperationName(ctx) == "GetObject" {
					return next.HandleFinalize(ctx, in)
				}
				limit := d
				if wait, ok := ctx.Value(waitKey{}).(time.Duration); ok {
					limit += wait
				}
				actx, cancel := context.WithTimeout(ctx, limit)
				defer cancel()
				out, md, err := next.HandleFinalize(actx, in)
				if err != nil && actx.Err() != nil && ctx.Err() == nil {
					err = &attemptTimeout{limit: limit, err: err}
				}
				return out, md, err
			}), middleware.After)
	}
}

// attemptTimeout is retryable: the SDK would otherwise classify the
// attempt's cancelled context as the caller giving up (it unwraps to
// context.DeadlineExceeded, not to the SDK's CanceledError).
type attemptTimeout struct {
	limit time.Duration
	err   error
}

func (e *attemptTimeout) Error() string {
	return fmt.Sprintf("attempt timed out after %v: %v", e.limit, e.err)
}
func (e *attemptTimeout) Unwrap() error        { return context.DeadlineExceeded }
func (e *attemptTimeout) RetryableError() bool { return true }
