package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "consumer.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPriorityFileEnvFlags(t *testing.T) {
	file := write(t, `
queue:
  url: https://sqs.eu-west-1.amazonaws.com/123456789012/orders
  waitTime: 10s
consumer:
  maxInFlight: 50
  breaker: {consecutiveFailures: 3}
routes:
  - name: big-orders
    pattern: {"type": ["io.eventplane.demo.order.placed.v1"], "data": {"total": [{"numeric": [">", 100]}]}}
    handler: log
    options: {level: warn}
`)
	env := map[string]string{"EVENTPLANE_CONFIG": file, "EVENTPLANE_MAX_IN_FLIGHT": "60", "EVENTPLANE_LOG_LEVEL": "debug"}
	c, err := Load([]string{"--max-in-flight", "70", "--shutdown-grace", "40s"}, func(k string) string { return env[k] }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.Consumer.MaxInFlight != 70 || c.Log.Level != "debug" || c.Queue.WaitTime.D() != 10*time.Second ||
		c.Consumer.ShutdownGrace.D() != 40*time.Second || c.Consumer.Breaker.ConsecutiveFailures != 3 ||
		c.Consumer.Breaker.OpenFor.D() != 5*time.Second || c.Consumer.ReceiveBatch != 10 {
		t.Fatalf("config = %+v", c)
	}
	if len(c.Routes) != 1 || !strings.Contains(string(c.Routes[0].Pattern), `"numeric"`) || string(c.Routes[0].Options) != `{"level":"warn"}` {
		t.Fatalf("routes = %+v", c.Routes)
	}
	if err := c.Validate(func(h string) bool { return h == "log" }); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownFileFieldIsAnError(t *testing.T) {
	file := write(t, "queue:\n  url: https://x/q\n  visiblityTimeout: 30s\n")
	_, err := Load([]string{"--config", file}, func(string) string { return "" }, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), "visiblityTimeout") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateNamesEveryBadField(t *testing.T) {
	c := Default()
	c.Queue.URL = "not a url"
	c.Consumer.ReceiveBatch = 11
	c.Consumer.BackoffBase = Duration(time.Minute)
	c.Consumer.BackoffMax = Duration(time.Second)
	c.Consumer.Unrouted = "drop"
	c.Routes = []Route{{Name: "a", Handler: "log"}, {Name: "a", Handler: "", Pattern: []byte(`["x"]`)}}
	err := c.Validate(nil)
	for _, want := range []string{`queue.url: "not a url"`, "consumer.receiveBatch: 11", "consumer.backoffMax: 1s is below", `consumer.unrouted: "drop"`,
		`routes[1].name: "a" is used`, "routes[1].handler: required", "routes[1].pattern: must be an EventBridge pattern object"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The README's configuration table is generated from the options: it must
// list every flag and environment variable.
func TestReadmeDocumentsEveryOption(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(Reference()), "\n")[2:] {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks the configuration row:\n%s\n(regenerate with `go run ./consumers/cmd/consumer --print-reference`)", line)
		}
	}
}

// /debug shows event ids, types and trace ids: its listener may only be a
// loopback address (reached with kubectl port-forward), never every
// interface of the pod.
func TestDebugAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:9091": true, "localhost:9091": true, "[::1]:9091": true,
		":9091": false, "0.0.0.0:9091": false, "10.0.0.7:9091": false, "9091": false} {
		c := Default()
		c.Queue.URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
		c.Routes = []Route{{Name: "a", Handler: "log"}}
		c.Admin.DebugAddr = addr
		err := c.Validate(nil)
		if ok && err != nil || !ok && (err == nil || !strings.Contains(err.Error(), "admin.debugAddr")) {
			t.Errorf("debugAddr %q: %v", addr, err)
		}
	}
}
