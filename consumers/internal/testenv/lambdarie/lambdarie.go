// Package lambdarie runs a Lambda function's bootstrap binary under the AWS
// Lambda Runtime Interface Emulator on loopback, for tests that invoke the
// real built function over HTTP. hack/tools.sh aws-lambda-rie builds the
// emulator.
package lambdarie

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// Function is a running emulator with one function.
type Function struct {
	URL string
	cmd *exec.Cmd
	Log *bytes.Buffer
}

func emulator() (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "eventplane", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("aws-lambda-rie not found: build it with `hack/tools.sh aws-lambda-rie`")
}

// Start runs bootstrap under the emulator with env added to the process
// environment, and waits until the emulator listens.
func Start(bootstrap string, env []string) (*Function, error) {
	rie, err := emulator()
	if err != nil {
		return nil, err
	}
	p1, err := testserver.FreePort()
	if err != nil {
		return nil, err
	}
	p2, err := testserver.FreePort()
	if err != nil {
		return nil, err
	}
	f := &Function{URL: "http://127.0.0.1:" + strconv.Itoa(p1) + "/2015-03-31/functions/function/invocations", Log: &bytes.Buffer{}}
	f.cmd = exec.Command(rie, "--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(p1), // #nosec G204 -- test helper: runs the emulator built by hack/tools.sh
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(p2), bootstrap)
	f.cmd.Env = append(os.Environ(), env...)
	f.cmd.Stdout, f.cmd.Stderr = f.Log, f.Log
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := f.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(p1))
		if err == nil {
			_ = c.Close()
			return f, nil
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("aws-lambda-rie did not listen: %v\n%s", err, f.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Invoke posts payload to the function and returns the emulator's status
// and body (a handler error comes back as 200 with errorMessage).
func (f *Function) Invoke(payload []byte) (int, []byte, time.Duration, error) {
	start := time.Now()
	resp, err := http.Post(f.URL, "application/json", bytes.NewReader(payload))
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, time.Since(start), err
}

// Stop ends the emulator and the function.
func (f *Function) Stop() {
	if f.cmd.Process != nil {
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		_ = f.cmd.Wait()
	}
}

// Build compiles the function in package directory dir as the bootstrap a
// Lambda zip holds (for this machine's architecture, so that the emulator
// can run it) and returns its path.
func Build(tb testing.TB, dir string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc,grpcnotrace", "-ldflags=-s -w", "-o", out, ".") // #nosec G204 -- test helper: go build of the project's own Lambda main
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}
