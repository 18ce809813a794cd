// Command consumer runs one eventplane consumer: it reads an SQS queue,
// normalizes every message into CloudEvents, routes them to handlers and
// settles each message. `consumer -h` lists every setting.
package main

import (
	"context"
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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventplane/eventplane/consumers/admin"
	"github.com/eventplane/eventplane/consumers/assemble"
	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/emf"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/sqs"
	"github.com/eventplane/eventplane/consumers/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
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
	reg := handlers.NewRegistry()
	if err := cfg.Validate(reg.Has); err != nil {
		fmt.Fprintf(stderr, "consumer: invalid configuration:\n%v\n", err)
		return 2
	}
	log, err := telemetry.Logger(stdout, cfg.Log.Level)
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
	tp, stopTracing, err := telemetry.Tracing(ctx, getenv)
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
		addr, stopDebug, err := admin.Serve(ctx, cfg.Admin.DebugAddr, admin.DebugHandler(eng, cfg.Admin.Pprof))
		if err != nil {
			return fmt.Errorf("debug server: %w", err)
		}
		defer func() { _ = stopDebug() }()
		log.Info("debug server listening", "addr", addr.String())
	}
	if every := cfg.Admin.MetricsEMF.D(); every > 0 {
		go emf.Every(ctx, every, emf.New(os.Stdout, m.Registry, emf.Options{Dimensions: map[string]string{"queue": path.Base(cfg.Queue.URL)}}), log)
	}
	log.Info("consuming", "queue", cfg.Queue.URL, "queue_arn", src.ARN(), "fifo", src.FIFO(),
		"dead_letter_queue", src.DeadLetterURL(), "max_receive_count", src.MaxReceiveCount(),
		"visibility_timeout", src.VisibilityTimeout().String(), "routes", len(cfg.Routes))
	return eng.Run(ctx)
}
