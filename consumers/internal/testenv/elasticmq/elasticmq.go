// Package elasticmq runs ElasticMQ, an SQS-compatible server on the JVM, on a
// free loopback port: the emulator of the throughput benchmarks (it drains
// 20,000 messages in seconds where moto needs hours; moto stays the emulator
// of the semantics tests). Install it with hack/elasticmq.sh.
package elasticmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// Version is the ElasticMQ release hack/elasticmq.sh installs.
const Version = "1.7.1"

// Region and Account are what the server is configured with (queue ARNs
// carry them).
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// EnvLib names the folder of ElasticMQ's jars (default: hack/elasticmq.sh's
// $HOME/.cache/eventplane/elasticmq/<Version>/lib).
const EnvLib = "EVENTPLANE_ELASTICMQ_LIB"

// Server is a running ElasticMQ.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	dir      string
}

// Start launches ElasticMQ on a free loopback port and waits until it
// answers ListQueues (at most 60s; the JVM starts in ~5s).
func Start(ctx context.Context) (*Server, error) {
	lib := os.Getenv(EnvLib)
	if lib == "" {
		home, _ := os.UserHomeDir()
		lib = filepath.Join(home, ".cache", "eventplane", "elasticmq", Version, "lib")
	}
	if _, err := os.Stat(filepath.Join(lib, "elasticmq-server_2.13-"+Version+".jar")); err != nil {
		return nil, fmt.Errorf("ElasticMQ %s not found in %s: install it with `hack/elasticmq.sh` (or hack/setup.sh bench): %w", Version, lib, err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, errors.New("java not found on PATH: hack/elasticmq.sh installs openjdk-17-jre-headless")
	}
	port, err := testserver.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "elasticmq-*")
	if err != nil {
		return nil, err
	}
	// The keys of ElasticMQ's own reference configuration (rest-sqs's
	// reference.conf): bind to loopback only, strict SQS limits, no stats
	// server, no persistence.
	conf := fmt.Sprintf(`include classpath("application.conf")
node-address { protocol = http, host = 127.0.0.1, port = %[1]d, context-path = "" }
rest-sqs { enabled = true, bind-port = %[1]d, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
generate-node-address = false
queues {}
aws { region = %[2]s, accountId = "%[3]s" }
`, port, Region, Account)
	confPath := filepath.Join(dir, "elasticmq.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "elasticmq.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }()                                        // the server writes through its own descriptor
	cmd := exec.Command(java, "-Xms256m", "-Xmx1g", "-Dconfig.file="+confPath, // #nosec G204 -- test helper: java from the PATH with a config it wrote
		"-cp", filepath.Join(lib, "*"), "org.elasticmq.server.Main")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ElasticMQ: %w", err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, dir: dir}
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint+"/", bytes.NewReader([]byte("{}")))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AmazonSQS.ListQueues")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
			err = fmt.Errorf("ListQueues answered %s", resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			b, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("ElasticMQ did not answer on %s: %v\n%s", s.Endpoint, err, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Config is an aws.Config for the server: its region, static test
// credentials and its endpoint.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
}

// Stop ends the server (its whole process group) and removes its files.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}
