package awsapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/local/awsapi"
	"github.com/eventplane/eventplane/consumers/topology"
)

var repoTopology = filepath.Join("..", "..", "..", "api", "topology.yaml")

// stack is a running local platform with the AWS APIs on a loopback port.
type stack struct {
	p   *local.Platform
	url string
	cfg aws.Config
	dir string // the platform's data (buckets/<bucket>/...)
}

// start runs the platform of a topology file (no PostgreSQL: the
// analytics consumer stays stopped and its queue keeps the messages).
func start(t testing.TB, topo string) *stack {
	t.Helper()
	top, err := topology.Load(topo)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	p, err := local.New(context.Background(), local.Options{Topology: top, Dir: dir, Logger: log,
		Getenv: func(string) string { return "" }, WatchInterval: 50 * time.Millisecond, BackoffBase: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(awsapi.New(p.AWS(), log))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("platform stopped with: %v", err)
		}
	})
	for !p.Ready() {
		time.Sleep(5 * time.Millisecond)
	}
	// Dummy credentials: they are accepted, not checked.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	return &stack{p: p, url: srv.URL, cfg: cfg, dir: dir}
}

func (s *stack) sqs() *sqs.Client            { return sqs.NewFromConfig(s.cfg) }
func (s *stack) events() *eventbridge.Client { return eventbridge.NewFromConfig(s.cfg) }
func (s *stack) sns() *sns.Client            { return sns.NewFromConfig(s.cfg) }
func (s *stack) queueURL(name string) string { return s.url + "/" + awsapi.Account + "/" + name }
func ctx(t *testing.T) context.Context       { return t.Context() }
