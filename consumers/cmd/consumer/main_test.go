package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/eventplane/eventplane/consumers/consumer"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

func TestInvalidConfigurationNamesTheField(t *testing.T) {
	var out, errb bytes.Buffer
	env := map[string]string{"EVENTPLANE_MAX_IN_FLIGHT": "0", "EVENTPLANE_ROUTES": `[{"name":"a","handler":"nope"}]`}
	code := consumer.Run(context.Background(), []string{"--wait-time", "30s"}, func(k string) string { return env[k] }, &out, &errb)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"queue.url: required", "queue.waitTime: 30s is outside 1s..20s", "consumer.maxInFlight: 0 is outside", `routes[0].handler: unknown handler "nope"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	errb.Reset()
	if code := consumer.Run(context.Background(), []string{"--max-in-flight", "many"}, func(string) string { return "" }, &out, &errb); code != 2 || !strings.Contains(errb.String(), `want an integer, got "many"`) {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	errb.Reset()
	if code := consumer.Run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out, &errb); code != 0 || !strings.Contains(errb.String(), "EVENTPLANE_QUEUE_URL") {
		t.Fatalf("-h: exit %d, stderr %s", code, errb.String())
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "consumer-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "consumer")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type queue struct {
	t      *testing.T
	client *awssqs.Client
	url    string
	srv    *motoserver.Server
}

func newQueue(t *testing.T, visibility int) *queue {
	srv := motoserver.Shared(t)
	c := awssqs.NewFromConfig(srv.Config())
	ctx := context.Background()
	name := strings.ToLower(t.Name())
	dlq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.Account + ":" + name + "-dlq"
	q, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": strconv.Itoa(visibility),
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, arn),
	}})
	if err != nil {
		t.Fatal(err)
	}
	_ = dlq
	return &queue{t: t, client: c, url: aws.ToString(q.QueueUrl), srv: srv}
}

func (q *queue) send(n int) []string {
	var ids []string
	for i := 0; i < n; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < min(n, i+10); j++ {
			id := fmt.Sprintf("evt-%03d", j)
			ids = append(ids, id)
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)),
				MessageBody: aws.String(fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test","type":"t.v1"}`, id))})
		}
		if _, err := q.client.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries}); err != nil {
			q.t.Fatal(err)
		}
	}
	return ids
}

func (q *queue) depth() (visible, inFlight int) {
	out, err := q.client.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		q.t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return
}

// proc is a running consumer process whose log lines are collected.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	seen  map[string]int // event id -> times handled
	lines []string
	done  chan error
	admin string
	debug string
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (q *queue) start(t *testing.T, extra ...string) *proc {
	t.Helper()
	p := &proc{seen: map[string]int{}, done: make(chan error, 1), admin: freeAddr(t), debug: freeAddr(t)}
	p.cmd = exec.Command(binary(t), extra...)
	p.cmd.Env = append(append(os.Environ(), q.srv.Env()...),
		"EVENTPLANE_QUEUE_URL="+q.url, "EVENTPLANE_ENDPOINT="+q.srv.Endpoint, "EVENTPLANE_WAIT_TIME=1s",
		"EVENTPLANE_ADMIN_ADDR="+p.admin, "EVENTPLANE_DEBUG_ADDR="+p.debug, `EVENTPLANE_ROUTES=[{"name":"all","handler":"log"}]`)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Msg     string `json:"msg"`
				EventID string `json:"event_id"`
			}
			_ = json.Unmarshal(sc.Bytes(), &line)
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			if line.Msg == "event" {
				p.seen[line.EventID]++
			}
			p.mu.Unlock()
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

func (p *proc) handled() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.seen {
		out[k] = v
	}
	return out
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("consumer did not exit; last lines:\n%s", strings.Join(p.lines[max(0, len(p.lines)-20):], "\n"))
		return nil
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testserver.WaitFor(t, timeout, 50*time.Millisecond, what, cond)
}

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSIGTERMDrainLosesNothing sends N messages, stops the consumer with
// SIGTERM mid-stream, restarts it, and checks that every message was handled
// at least once and none is left in the queue.
func TestSIGTERMDrainLosesNothing(t *testing.T) {
	q := newQueue(t, 30)
	ids := q.send(120)
	p := q.start(t, "--max-in-flight", "10")
	eventually(t, 30*time.Second, "admin /readyz", func() bool { c, _ := get(t, "http://"+p.admin+"/readyz"); return c == 200 })
	eventually(t, 60*time.Second, "30 events handled", func() bool { return len(p.handled()) >= 30 })

	code, metricsText := get(t, "http://"+p.admin+"/metrics")
	if code != 200 || !strings.Contains(metricsText, `eventplane_aws_requests_total{api="ReceiveMessage",service="SQS"}`) ||
		!strings.Contains(metricsText, `eventplane_events_processed_total{route="all"}`) {
		t.Errorf("/metrics lacks the request and processing counters (status %d)", code)
	}
	// Event data only on the loopback debug port: the admin port, which a
	// Service and the operator reach, answers /debug and pprof with 404.
	for _, path := range []string{"/debug", "/debug/pprof/"} {
		if code, body := get(t, "http://"+p.admin+path); code != 404 || strings.Contains(body, `"outcome"`) {
			t.Errorf("admin port %s = %d %.200s, want 404 (event data belongs to the loopback debug port)", path, code, body)
		}
	}
	if code, body := get(t, "http://"+p.admin+"/inflight"); code != 200 || !strings.Contains(body, `"inFlight":`) {
		t.Errorf("admin port /inflight = %d %s", code, body)
	}
	if code, body := get(t, "http://"+p.debug+"/debug"); code != 200 || !strings.Contains(body, `"name": "all"`) || !strings.Contains(body, `"outcome": "processed"`) {
		t.Errorf("debug port /debug = %d %s", code, body)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t); err != nil {
		t.Fatalf("consumer exited with %v after SIGTERM, want exit 0", err)
	}
	first := p.handled()
	if _, inFlight := q.depth(); inFlight != 0 {
		t.Errorf("%d messages left in flight after a graceful shutdown", inFlight)
	}
	t.Logf("first run handled %d of %d before SIGTERM", len(first), len(ids))
	if len(first) == len(ids) {
		t.Log("the first run finished everything before SIGTERM; the drain was not exercised mid-stream")
	}

	p2 := q.start(t)
	eventually(t, 90*time.Second, "the rest handled and the queue empty", func() bool {
		v, f := q.depth()
		return v == 0 && f == 0 && len(first)+len(p2.handled()) >= len(ids)
	})
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.wait(t); err != nil {
		t.Fatalf("second consumer exited with %v", err)
	}
	second := p2.handled()
	for _, id := range ids {
		if first[id]+second[id] == 0 {
			t.Errorf("message %s was never handled", id)
		}
	}
}

// TestKill9MidBatch kills the consumer before it acknowledged anything: the
// messages come back after the visibility timeout and are handled again.
func TestKill9MidBatch(t *testing.T) {
	q := newQueue(t, 3)
	ids := q.send(5)
	p := q.start(t, "--ack-flush-interval", "1h")
	eventually(t, 30*time.Second, "all handled once", func() bool { return len(p.handled()) == len(ids) })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t)
	if _, inFlight := q.depth(); inFlight != len(ids) {
		t.Fatalf("%d in flight after kill -9, want %d unacknowledged", inFlight, len(ids))
	}
	killed := time.Now()
	p2 := q.start(t)
	eventually(t, 60*time.Second, "redelivered and handled", func() bool { return len(p2.handled()) == len(ids) })
	if took := time.Since(killed); took < 2*time.Second {
		t.Errorf("redelivered after %v, before the 3s visibility timeout", took)
	}
	eventually(t, 30*time.Second, "queue empty", func() bool { v, f := q.depth(); return v+f == 0 })
}

// The debug server is a diagnostic aid on a fixed loopback port by default
// (127.0.0.1:9091): a second consumer on the same host (a developer's
// machine, tests running side by side) finds it taken. It must still
// consume, and say why /debug is missing.
func TestDebugPortTakenStillConsumes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	q := newQueue(t, 30)
	ids := q.send(3)
	p := q.start(t, "--debug-addr", ln.Addr().String())
	eventually(t, 30*time.Second, "the 3 messages handled", func() bool {
		select {
		case err := <-p.done:
			t.Fatalf("the consumer exited: %v", err)
		default:
		}
		h := p.handled()
		for _, id := range ids {
			if h[id] == 0 {
				return false
			}
		}
		return true
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if !strings.Contains(strings.Join(p.lines, "\n"), "debug server not started") {
		t.Errorf("no warning that the debug server did not start:\n%s", strings.Join(p.lines, "\n"))
	}
}
