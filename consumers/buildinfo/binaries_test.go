package buildinfo_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every binary says which version it is as it starts (its first log line),
// from the version the linker stamps (make build, make image).
func TestEveryBinaryLogsItsVersionAtStart(t *testing.T) {
	const v = "v0.0.0-stamped"
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator),
		"-ldflags", "-X github.com/eventplane/eventplane/consumers/buildinfo.version="+v, "../cmd/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := map[string][]string{
		// enough configuration for the consumer to get past its validation
		"consumer": {"EVENTPLANE_QUEUE_URL=http://127.0.0.1:1/000000000000/q", "AWS_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x",
			`EVENTPLANE_ROUTES=[{"name":"log","handler":"log","pattern":{"source":["x"]}}]`},
		"operator": {"KUBECONFIG=/nonexistent"},
	}
	for _, name := range []string{"consumer", "operator", "lambda-files", "lambda-ingest", "lambda-sqs", "eventplane"} {
		t.Run(name, func(t *testing.T) {
			args := []string{}
			if name == "eventplane" {
				args = []string{"--version"}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
			cmd.Env = append(os.Environ(), env[name]...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			sc := bufio.NewScanner(out)
			var seen []string
			for sc.Scan() && len(seen) < 5 {
				seen = append(seen, sc.Text())
				if strings.Contains(sc.Text(), v) {
					return
				}
			}
			t.Errorf("%s printed no %s in its first lines:\n%s", name, v, strings.Join(seen, "\n"))
		})
	}
}
