// Package consumer is the Go SDK of eventplane: a program that calls Main
// is the eventplane consumer (configuration, flags, admin server,
// telemetry, idempotency, breakers and every delivery guarantee) with the
// program's own handlers registered beside the built-in ones, so a route's
// "handler" can name them:
//
//	func main() {
//		consumer.Main(consumer.Handle("enrich", func(ctx context.Context, e cloudevents.Event) error {
//			...
//		}))
//	}
//
// A handler returns nil once its effect is durable, an error to retry the
// message with backoff, or Permanent(err) to dead-letter it with err as the
// reason.
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventplane/eventplane/consumers/admin"
	"github.com/eventplane/eventplane/consumers/assemble"
	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/emf"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/logging"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/sqs"
	"github.com/eventplane/eventplane/consumers/tracing"
)

// Option registers handlers.
type Option func(*handlers.Registry)

// Handle registers f as the handler name. Its route's options are ignored;
// use HandleFactory for a handler that takes options.
func Handle(name string, f func(ctx context.Context, e cloudevents.Event) error) Option {
	h := delivery.HandlerFunc(func(ctx context.Context, e *cloudevents.Event) error { return f(ctx, *e) })
	return HandleFactory(name, func(context.Context, handlers.Deps, json.RawMessage) (delivery.Handler, error) { return h, nil })
}

// HandleFactory registers a factory that builds the handler name from its
// route's options (as the built-in handlers are built); it replaces a
// built-in handler of the same name.
func HandleFactory(name string, f handlers.Factory) Option {
	return func(r *handlers.Registry) { r.Register(name, f) }
}

// Registry is the built-in handlers with opts applied: what a route's
// handler names, for a program that runs the local platform
// (local.Options.Registry) with its own handlers.
func Registry(opts ...Option) *handlers.Registry {
	reg := handlers.NewRegistry()
	for _, o := range opts {
		o(reg)
	}
	return reg
}

// Permanent marks err as not retryable: the message goes to the
// dead-letter queue with err as its reason.
func Permanent(err error) error { return delivery.Permanent(err) }

// Main runs the consumer with the process's flags and environment until
// SIGTERM or SIGINT, then exits.
func Main(opts ...Option) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, opts...)
	stop()
	os.Exit(code)
}

// Run runs the consumer with args (flags) and getenv (EVENTPLANE_*
// variables), logging to stdout, until ctx is cancelled, and returns the
// process exit code: 0, 1 when the consumer failed, 2 for an invalid
// configuration.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, opts ...Option) int {
	if len(args) == 1 && args[0] == "--print-reference" {
		fmt.Fprint(stdout, config.Reference()) // the README's configuration table
		return 0
	}
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "consumer: %v\n", err)
		return 2
	}
	reg := Registry(opts...)
	if err := reg.CheckNames(); err != nil {
		fmt.Fprintf(stderr, "consumer: %v\n", err)
		return 2
	}
	if err := cfg.Validate(reg.Has); err != nil {
		fmt.Fprintf(stderr, "consumer: invalid configuration:\n%v\n", err)
		return 2
	}
	log, err := logging.New(stdout, cfg.Log.Level)
	if err != nil {
		fmt.Fprintf(stderr, "consumer: %v\n", err)
		return 2
	}
	log.Info("starting", "binary", "consumer", "version", buildinfo.Version())
	if err := serve(ctx, cfg, reg, log, getenv); err != nil {
		log.Error("consumer failed", "error", err.Error())
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg config.Config, reg *handlers.Registry, log *slog.Logger, getenv func(string) string) error {
	m := metrics.New()
	tp, stopTracing, err := tracing.Start(ctx, getenv, tracing.OTLPHTTP(getenv))
	if err != nil {
		return err
	}
	defer func() { _ = stopTracing(context.WithoutCancel(ctx)) }()

	awsCfg, err := awsconf.Load(ctx, awsconf.Options{Region: cfg.AWS.Region, Endpoint: cfg.AWS.Endpoint, AttemptTimeout: cfg.AWS.AttemptTimeout.D(),
		OnRequest: func(service, api string) { m.AWSRequests.WithLabelValues(service, api).Inc() }, Tracer: tp})
	if err != nil {
		return err
	}
	src, err := sqs.New(ctx, awssqs.NewFromConfig(awsCfg), sqs.Config{
		QueueURL: cfg.Queue.URL, DeadLetterURL: cfg.Queue.DeadLetterURL,
		WaitTime: cfg.Queue.WaitTime.D(), VisibilityTimeout: cfg.Queue.VisibilityTimeout.D(), Logger: log,
	})
	if err != nil {
		return err
	}
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "eventplane_deletes_settled_on_retry_total",
		Help: "Delete entries an SDK retry found already deleted (ReceiptHandleIsInvalid after a lost response): settled, not failed."},
		func() float64 { return float64(src.SettledOnRetry()) }))
	eng, err := assemble.Engine(ctx, cfg, assemble.Parts{
		Source: src, MaxReceiveCount: src.MaxReceiveCount(), FIFO: src.FIFO(), Registry: reg, Deps: handlers.NewDeps(log, awsCfg),
		Idempotency: dynamodb.NewFromConfig(awsCfg), Metrics: m, Logger: log, Tracer: tp,
	})
	if err != nil {
		return err
	}
	if cfg.Admin.Addr != "" {
		addr, stopAdmin, err := admin.Serve(ctx, cfg.Admin.Addr, admin.Handler(eng, m.Registry))
		if err != nil {
			return fmt.Errorf("admin server: %w", err)
		}
		defer func() { _ = stopAdmin() }()
		log.Info("admin server listening", "addr", addr.String())
	}
	if cfg.Admin.DebugAddr != "" { // loopback only (config.Validate)
		// A diagnostic aid on a fixed loopback port by default: a second
		// consumer on one host finds it taken and consumes without it.
		addr, stopDebug, err := admin.Serve(ctx, cfg.Admin.DebugAddr, admin.DebugHandler(eng, cfg.Admin.Pprof))
		if err != nil {
			log.Warn("debug server not started; consuming without /debug (set --debug-addr to a free port, or \"\" to turn it off)", "error", err)
		} else {
			defer func() { _ = stopDebug() }()
			log.Info("debug server listening", "addr", addr.String())
		}
	}
	if every := cfg.Admin.MetricsEMF.D(); every > 0 {
		go emf.Every(ctx, every, emf.New(os.Stdout, m.Registry, emf.Options{Dimensions: map[string]string{"queue": path.Base(cfg.Queue.URL)}}), log)
	}
	log.Info("consuming", "queue", cfg.Queue.URL, "queue_arn", src.ARN(), "fifo", src.FIFO(),
		"dead_letter_queue", src.DeadLetterURL(), "max_receive_count", src.MaxReceiveCount(),
		"visibility_timeout", src.VisibilityTimeout().String(), "routes", len(cfg.Routes))
	return eng.Run(ctx)
}
