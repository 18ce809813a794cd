// Command operator runs the eventplane operator: it turns EventConsumer
// resources into KEDA-scaled consumer Deployments (see consumers/operator).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/logging"
	"github.com/eventplane/eventplane/consumers/operator"
	"github.com/eventplane/eventplane/consumers/sqs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		metricsAddr, probeAddr, leaderNS, watchNS string
		metricsCertDir                            string
		leaderElect, metricsSecure                bool
		region, sqsEndpoint                       string
		opts                                      operator.Options
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "address of the Prometheus /metrics endpoint (\"0\" disables)")
	flag.BoolVar(&metricsSecure, "metrics-secure", true, "serve /metrics over HTTPS to callers the API server authenticates and authorizes for get on /metrics; false serves plain HTTP to anyone who can connect (bind it to 127.0.0.1)")
	flag.StringVar(&metricsCertDir, "metrics-cert-dir", "", "folder with tls.crt and tls.key for /metrics (default: a self-signed certificate)")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	flag.BoolVar(&leaderElect, "leader-elect", true, "elect a leader so that only one replica reconciles")
	flag.StringVar(&leaderNS, "leader-election-namespace", "", "namespace of the leader-election Lease (default: the pod's namespace)")
	flag.StringVar(&watchNS, "watch-namespace", "", "comma-separated namespaces whose EventConsumers are reconciled, and the only ones the operator reads (default: all; needs cluster-wide RBAC)")
	flag.StringVar(&region, "aws-region", "", "AWS region for queues whose spec.queue.region is empty (default: AWS_REGION)")
	flag.StringVar(&sqsEndpoint, "sqs-endpoint", "", "SQS endpoint the operator reads queue depth from (emulators only)")
	flag.DurationVar(&opts.QueuePollInterval, "queue-poll-interval", 30*time.Second, "how often queue depth is read into each EventConsumer's status")
	flag.BoolVar(&opts.PeekOldest, "peek-oldest", false, "fill status.queue.oldestMessageAgeSeconds by peeking at the queue head (raises those messages' receive counts)")
	flag.DurationVar(&opts.DeletionCostInterval, "deletion-cost-interval", 10*time.Second, "how often pods' deletion cost follows their in-flight work (negative disables)")
	flag.StringVar(&opts.ConsumerEndpoint, "consumer-aws-endpoint", "", "AWS endpoint written into consumers' config (emulators only)")
	flag.StringVar(&opts.KEDA.AWSEndpoint, "keda-aws-endpoint", "", "awsEndpoint of KEDA's aws-sqs-queue trigger (emulators only)")
	flag.StringVar(&opts.KEDA.CredentialsSecret, "keda-credentials-secret", "", "Secret with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for KEDA instead of pod identity (emulators only)")
	logLevel := flag.String("log-level", "info", "`LEVEL` of the JSON log on stdout: debug, info, warn or error")
	flag.Parse()
	log, err := logging.New(os.Stdout, *logLevel)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	// One logging stack: controller-runtime's and client-go's (klog: leader
	// election, the reflectors) log lines go through the same slog handler
	// as the rest of eventplane's binaries (logr's V(1) is slog's debug).
	logger := logr.FromSlogHandler(log.Handler())
	ctrl.SetLogger(logger)
	klog.SetLogger(logger)
	log.Info("starting", "binary", "operator", "version", buildinfo.Version())

	scheme, err := operator.NewScheme()
	if err != nil {
		return err
	}
	mopts := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 operator.MetricsServer(metricsAddr, metricsSecure, metricsCertDir),
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "eventplane-operator.eventplane.io",
		LeaderElectionNamespace: leaderNS,
		// Stop reconciling at once when leadership is lost.
		LeaderElectionReleaseOnCancel: true,
	}
	var namespaces []string
	for _, ns := range strings.Split(watchNS, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	mopts.Cache = operator.CacheOptions(namespaces)
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), mopts)
	if err != nil {
		return err
	}
	opts.SQS = clients(region, sqsEndpoint)
	if err := operator.Setup(mgr, opts); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// clients returns one SQS client per region, created on first use.
func clients(defaultRegion, endpoint string) func(context.Context, string) (sqs.AdminAPI, error) {
	var mu sync.Mutex
	byRegion := map[string]sqs.AdminAPI{}
	return func(ctx context.Context, region string) (sqs.AdminAPI, error) {
		if region == "" {
			region = defaultRegion
		}
		mu.Lock()
		defer mu.Unlock()
		if c, ok := byRegion[region]; ok {
			return c, nil
		}
		cfg, err := awsconf.Load(ctx, awsconf.Options{Region: region, Endpoint: endpoint})
		if err != nil {
			return nil, err
		}
		c := awssqs.NewFromConfig(cfg)
		byRegion[region] = c
		return c, nil
	}
}
