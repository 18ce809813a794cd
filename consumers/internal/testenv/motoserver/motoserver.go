// Package motoserver runs a moto server (the AWS API emulator from PyPI) on a
// free loopback port for integration tests, so that adapters are tested with
// the real aws-sdk-go-v2 clients. Install it with hack/moto.sh
// (`pip install 'moto[server]'`).
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// Region and Account are moto's defaults.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// EnvEndpoint names an already running emulator to use instead of starting one.
const EnvEndpoint = "EVENTPLANE_MOTO_ENDPOINT"

// Server is a running moto server.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	log      string
}

// Start launches moto_server on a free loopback port and waits until it
// answers (at most 60s).
func Start(ctx context.Context) (*Server, error) {
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		return &Server{Endpoint: ep}, nil
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server not found on PATH: install it with `hack/moto.sh` (pip install 'moto[server]')")
	}
	port, err := testserver.FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port)) // #nosec G204 -- test helper: runs moto_server from the PATH
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: logf.Name()}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			b, _ := os.ReadFile(s.log)
			return nil, fmt.Errorf("moto_server did not answer on %s: %v\n%s", s.Endpoint, err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop ends the server (and its process group).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	_ = os.Remove(s.log)
}

// Config returns an aws.Config pointed at the server with static credentials.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
}

// Env returns the environment a child process needs to reach the server.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(os.TempDir(), "eventplane-no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(os.TempDir(), "eventplane-no-aws-credentials")}
}

var shared testserver.Shared[*Server]

// Main runs a test binary's tests with one moto server shared by all of
// them: call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// StopShared stops the shared server if it was started (for TestMain
// functions that use several shared servers).
func StopShared() { shared.Stop() }

// Shared returns the test binary's moto server, starting it on first use. A
// missing moto_server fails the test with the command that installs it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	return shared.Get(tb, func() (*Server, error) { return Start(context.Background()) })
}
