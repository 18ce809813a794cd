// Command floorbench measures the consumer against the floor of a bare
// aws-sdk-go-v2 loop (sqsloop) in one invocation, on ElasticMQ on loopback:
// for each round it loads the same SNS-wrapped CloudEvents into a fresh queue
// and drains it with each contestant as its own process — the bare loop, the
// consumer with telemetry off (no admin server, no tracing) and on (its
// /metrics scraped every second, every span exported over OTLP/HTTP to a
// loopback sink; then again with the chart's default sampling of 10%) — and
// reports, as medians over the rounds and as ratios to
// the bare loop: CPU seconds per 1,000 events (the process's rusage, user +
// system), SQS requests per event (counted by a proxy in front of
// ElasticMQ) and peak RSS (VmHWM in /proc/PID/status just before SIGTERM,
// with the resident anonymous and file-backed shares at that moment).
//
// Peak RSS is not rusage maxrss: os/exec starts a child with
// clone(CLONE_VM|CLONE_VFORK), and exec records the high-water mark of the
// memory the child shared with this harness until then (maxrss is the largest
// of those, see getrusage(2) and the kernel's exec_mmap), so maxrss reported
// this harness's own ~20 MB for the bare loop whose peak is ~15 MB.
//
//	floorbench -consumer BIN -sqsloop BIN [-events 20000] [-rounds 3] [-profile DIR]
//
// With -profile, two more consumer runs are profiled through their loopback
// pprof endpoint: telemetry off (DIR/cpu.pprof, heap.pprof) and on
// (DIR/cpu-telemetry.pprof, heap-telemetry.pprof).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/eventplane/eventplane/consumers/internal/testenv/elasticmq"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

type options struct {
	consumer, sqsloop, profile string
	before                     string
	beforeTelemetry            bool
	events, rounds             int
	profileSeconds             int
}

func main() {
	var o options
	flag.StringVar(&o.consumer, "consumer", "", "consumer binary")
	flag.StringVar(&o.sqsloop, "sqsloop", "", "sqsloop binary (the bare SDK loop)")
	flag.StringVar(&o.before, "consumer-before", "", "another consumer binary (an older build) to run beside it, telemetry off (empty: none)")
	flag.BoolVar(&o.beforeTelemetry, "before-telemetry", false, "run the -consumer-before build with telemetry on instead")
	flag.IntVar(&o.events, "events", 20000, "events per queue")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds (each runs every contestant once)")
	flag.StringVar(&o.profile, "profile", "", "folder for CPU and heap profiles of two more consumer runs, telemetry off and on (empty: none)")
	flag.IntVar(&o.profileSeconds, "profile-seconds", 20, "length of the CPU profile")
	flag.Parse()
	if o.consumer == "" || o.sqsloop == "" {
		fmt.Fprintln(os.Stderr, "floorbench: -consumer and -sqsloop are required")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "floorbench: %v\n", err)
		os.Exit(1)
	}
}

// result is one contestant's drain of one queue.
type result struct {
	cpu      time.Duration
	requests int64
	rssKB    int64 // VmHWM: the peak resident set since exec
	anonKB   int64 // RssAnon and RssFile when the queue was empty
	fileKB   int64
	wall     time.Duration
	spans    int64
}

type contestant struct {
	name string
	cmd  func(b *bench, queueURL string) (*exec.Cmd, func(context.Context), error)
}

type bench struct {
	o      options
	emq    *elasticmq.Server
	client *sqs.Client
	proxy  *counter
	sink   *spanSink
	dir    string
}

func run(ctx context.Context, o options) error {
	emq, err := elasticmq.Start(ctx)
	if err != nil {
		return err
	}
	defer emq.Stop()
	dir, err := os.MkdirTemp("", "floorbench-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary folder: what stays is the OS's to clean
	b := &bench{o: o, emq: emq, client: sqs.NewFromConfig(emq.Config()), dir: dir}
	if b.proxy, err = newCounter(emq.Endpoint); err != nil {
		return err
	}
	defer b.proxy.close()
	if b.sink, err = newSpanSink(); err != nil {
		return err
	}
	defer b.sink.close()

	contestants := []contestant{
		{"bare aws-sdk-go-v2 loop", (*bench).sqsloopCmd},
		{"consumer, telemetry off", func(b *bench, q string) (*exec.Cmd, func(context.Context), error) { return b.consumerCmd(q, false) }},
		{"consumer, telemetry on", func(b *bench, q string) (*exec.Cmd, func(context.Context), error) { return b.consumerCmd(q, true) }},
		// Telemetry on as the chart deploys it: tracing.sampleRatio 0.1
		// (parentbased_traceidratio; these events carry no upstream trace).
		{"consumer, on, 10% sampled", func(b *bench, q string) (*exec.Cmd, func(context.Context), error) {
			cmd, during, err := b.consumerCmd(q, true)
			if err == nil {
				cmd.Env = append(cmd.Env, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=0.1")
			}
			return cmd, during, err
		}},
	}
	if o.before != "" {
		name := "older consumer, telem. off"
		if o.beforeTelemetry {
			name = "older consumer, telem. on"
		}
		contestants = append(contestants, contestant{name, func(b *bench, q string) (*exec.Cmd, func(context.Context), error) {
			cmd, during, err := b.consumerCmd(q, o.beforeTelemetry)
			if err == nil {
				cmd.Path, cmd.Args[0] = o.before, o.before
			}
			return cmd, during, err
		}})
	}
	results := make([][]result, len(contestants))
	for round := range o.rounds {
		// Rotate the order so that no contestant always runs first (the
		// JVM warms up, the machine's load drifts).
		for k := range contestants {
			i := (k + round) % len(contestants)
			r, err := b.drain(ctx, fmt.Sprintf("r%d-c%d", round, i), contestants[i])
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, contestants[i].name, err)
			}
			fmt.Printf("round %d  %-26s %6.2fs wall  %.3f CPU s/1,000 events  %.3f requests/event  %5.1f MB peak RSS (anon %.1f + file %.1f)  %.2f spans/event\n",
				round+1, contestants[i].name, r.wall.Seconds(), cpuPer1000(r, o.events), float64(r.requests)/float64(o.events),
				mb(r.rssKB), mb(r.anonKB), mb(r.fileKB), float64(r.spans)/float64(o.events))
			results[i] = append(results[i], r)
		}
	}
	fmt.Printf("\n== %d SNS-wrapped CloudEvents per queue, medians of %d; ratios to the bare loop ==\n", o.events, o.rounds)
	fmt.Printf("%-26s %22s %22s %22s %22s\n", "contestant", "CPU s / 1,000 events", "SQS requests / event", "peak RSS", "anon + file-backed")
	base := medians(results[0], o.events)
	for i, c := range contestants {
		m := medians(results[i], o.events)
		fmt.Printf("%-26s %10.3f (%5.2fx)     %10.3f (%5.2fx)     %7.1f MB (%5.2fx)     %6.1f + %4.1f MB\n", c.name,
			m.cpu, m.cpu/base.cpu, m.req, m.req/base.req, m.rss, m.rss/base.rss, m.anon, m.file)
	}
	if o.profile != "" {
		return b.profileRun(ctx)
	}
	return nil
}

type summary struct{ cpu, req, rss, anon, file float64 }

func mb(kb int64) float64 { return float64(kb) / 1024 }

// residentKB reads the memory lines of /proc/PID/status (proc(5)): VmHWM,
// RssAnon, RssFile, ... in kB.
func residentKB(pid int) (map[string]int64, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("peak RSS: %w", err)
	}
	kb := map[string]int64{}
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				kb[k] = n
			}
		}
	}
	if kb["VmHWM"] == 0 {
		return nil, fmt.Errorf("peak RSS: no VmHWM in /proc/%d/status", pid)
	}
	return kb, nil
}

func cpuPer1000(r result, events int) float64 { return r.cpu.Seconds() * 1000 / float64(events) }

func medians(rs []result, events int) summary {
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return summary{
		cpu:  med(func(r result) float64 { return cpuPer1000(r, events) }),
		req:  med(func(r result) float64 { return float64(r.requests) / float64(events) }),
		rss:  med(func(r result) float64 { return mb(r.rssKB) }),
		anon: med(func(r result) float64 { return mb(r.anonKB) }),
		file: med(func(r result) float64 { return mb(r.fileKB) }),
	}
}

// queue makes a queue with a dead-letter queue (the consumer refuses a
// queue without one) and loads it with events SNS-wrapped CloudEvents.
func (b *bench) queue(ctx context.Context, name string) (url, dlq string, err error) {
	d, err := b.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-" + name + "-dlq")})
	if err != nil {
		return "", "", err
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:bench-%s-dlq","maxReceiveCount":"5"}`, elasticmq.Region, elasticmq.Account, name)
	q, err := b.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench-" + name),
		Attributes: map[string]string{"VisibilityTimeout": "30", "RedrivePolicy": redrive}})
	if err != nil {
		return "", "", err
	}
	url = aws.ToString(q.QueueUrl)
	const senders = 4
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := s * 10; first < b.o.events; first += senders * 10 {
				entries := make([]types.SendMessageBatchRequestEntry, 0, 10)
				for i := first; i < min(first+10, b.o.events); i++ {
					entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i - first)), MessageBody: aws.String(snsWrapped(name, i))})
				}
				out, err := b.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
				if err == nil && len(out.Failed) > 0 {
					err = fmt.Errorf("send: %s", aws.ToString(out.Failed[0].Code))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", "", err
	}
	return url, aws.ToString(d.QueueUrl), nil
}

// snsWrapped is an order event as SNS delivers it to a queue without raw
// message delivery: the notification envelope with the CloudEvent as its
// Message (~1 KB).
func snsWrapped(queue string, i int) string {
	ce, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("%s-%d", queue, i), "source": "https://shop.example.com/orders",
		"type": "io.eventplane.demo.order.placed.v1", "subject": fmt.Sprintf("orders/%d", i),
		"time": "2026-11-20T17:00:00Z", "datacontenttype": "application/json",
		"data": map[string]any{"orderId": strconv.Itoa(i), "customerId": "c-19", "currency": "EUR", "total": 129.5,
			"items": []map[string]any{{"sku": "BOOK-1", "quantity": 2, "price": 64.75}}},
	})
	env, _ := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"TopicArn": "arn:aws:sns:us-east-1:000000000000:eventplane-bench-orders", "Message": string(ce),
		"Timestamp": "2026-11-20T17:00:00.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
		"SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem", "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
	})
	return string(env)
}

// depth is the queue's visible + in-flight + delayed messages.
func (b *bench) depth(ctx context.Context, url string) (int, error) {
	out, err := b.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n, nil
}

// drain loads a queue, runs the contestant until the queue is empty, stops
// it with SIGTERM and returns its rusage.
func (b *bench) drain(ctx context.Context, name string, c contestant) (result, error) {
	url, dlq, err := b.queue(ctx, name)
	if err != nil {
		return result{}, err
	}
	defer func() {
		_, _ = b.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
		_, _ = b.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(dlq)})
	}()
	cmd, during, err := c.cmd(b, url)
	if err != nil {
		return result{}, err
	}
	var stderr strings.Builder // the consumer logs to stdout: a few lines a run at info
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	b.proxy.reset()
	b.sink.spans.Store(0)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	runCtx, stopDuring := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if during != nil {
		wg.Add(1)
		go func() { defer wg.Done(); during(runCtx) }()
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var wall time.Duration
	for {
		select {
		case err := <-exited:
			stopDuring()
			return result{}, fmt.Errorf("exited before the queue was empty: %v\n%s", err, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		n, err := b.depth(ctx, url)
		if err != nil {
			_ = cmd.Process.Kill()
			stopDuring()
			return result{}, err
		}
		if n == 0 {
			wall = time.Since(began)
			break
		}
		if time.Since(began) > 10*time.Minute {
			_ = cmd.Process.Kill()
			stopDuring()
			return result{}, fmt.Errorf("%d messages left after 10 minutes", n)
		}
	}
	stopDuring()
	wg.Wait()
	mem, err := residentKB(cmd.Process.Pid)
	if err != nil {
		_ = cmd.Process.Kill()
		return result{}, err
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		return result{}, fmt.Errorf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	if n, err := b.depth(ctx, dlq); err != nil || n != 0 {
		return result{}, fmt.Errorf("dead-letter queue holds %d messages (%v): every event should have been handled\n%s", n, err, stderr.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return result{}, errors.New("no rusage for the process")
	}
	return result{
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		rssKB:    mem["VmHWM"],
		anonKB:   mem["RssAnon"],
		fileKB:   mem["RssFile"],
		requests: b.proxy.get("ReceiveMessage") + b.proxy.get("DeleteMessageBatch") + b.proxy.get("ChangeMessageVisibilityBatch"),
		wall:     wall,
		spans:    b.sink.spans.Load(),
	}, nil
}

func (b *bench) sqsloopCmd(queueURL string) (*exec.Cmd, func(context.Context), error) {
	return exec.Command(b.o.sqsloop, "-endpoint", b.proxy.url, "-queue-url", queueURL), nil, nil // #nosec G204 -- benchmark harness: runs the binary it was given
}

// consumerCmd runs the consumer with one route to a log handler at debug
// level under an info logger: it builds its attributes and writes nothing.
func (b *bench) consumerCmd(queueURL string, telemetry bool) (*exec.Cmd, func(context.Context), error) {
	cfg := filepath.Join(b.dir, "consumer.yaml")
	if err := os.WriteFile(cfg, []byte(`routes:
  - name: orders
    pattern: {"type": ["io.eventplane.demo.order.placed.v1"]}
    handler: log
    options: {level: debug}
`), 0o600); err != nil {
		return nil, nil, err
	}
	// The servers are turned off by flags: an empty EVENTPLANE_* variable
	// counts as unset (the default :9090 and 127.0.0.1:9091 would be used).
	cmd := exec.Command(b.o.consumer, "--debug-addr=") // #nosec G204 -- benchmark harness: runs the binary it was given
	cmd.Env = append(os.Environ(), "EVENTPLANE_CONFIG="+cfg, "EVENTPLANE_QUEUE_URL="+queueURL, "EVENTPLANE_ENDPOINT="+b.proxy.url,
		"EVENTPLANE_REGION="+elasticmq.Region, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"OTEL_TRACES_EXPORTER=", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=")
	if !telemetry {
		cmd.Args = append(cmd.Args, "--admin-addr=")
		return cmd, nil, nil
	}
	port, err := testserver.FreePort()
	if err != nil {
		return nil, nil, err
	}
	admin := "127.0.0.1:" + strconv.Itoa(port)
	cmd.Env = append(cmd.Env, "EVENTPLANE_ADMIN_ADDR="+admin, "OTEL_TRACES_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+b.sink.url)
	scrape := func(ctx context.Context) {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if resp, err := http.Get("http://" + admin + "/metrics"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		}
	}
	return cmd, scrape, nil
}

// profileRun drains two more queues with the consumer, each run profiled
// through its loopback pprof endpoint: telemetry off (cpu.pprof, heap.pprof)
// and telemetry on, scraped and traced as in its rounds
// (cpu-telemetry.pprof, heap-telemetry.pprof).
func (b *bench) profileRun(ctx context.Context) error {
	if err := os.MkdirAll(b.o.profile, 0o750); err != nil {
		return err
	}
	for _, run := range []struct {
		telemetry bool
		suffix    string
	}{{false, ""}, {true, "-telemetry"}} {
		if err := b.profileOne(ctx, run.telemetry, run.suffix); err != nil {
			return err
		}
	}
	return nil
}

// profileOne drains one queue with the consumer and takes a CPU profile of
// it and a heap profile at the end: DIR/cpu<suffix>.pprof, heap<suffix>.pprof.
func (b *bench) profileOne(ctx context.Context, telemetry bool, suffix string) error {
	port, err := testserver.FreePort()
	if err != nil {
		return err
	}
	debug := "127.0.0.1:" + strconv.Itoa(port)
	cpuFile, heapFile := filepath.Join(b.o.profile, "cpu"+suffix+".pprof"), filepath.Join(b.o.profile, "heap"+suffix+".pprof")
	c := contestant{"consumer, profiled", func(b *bench, q string) (*exec.Cmd, func(context.Context), error) {
		cmd, scrape, err := b.consumerCmd(q, telemetry)
		if err != nil {
			return nil, nil, err
		}
		cmd.Args = append(cmd.Args, "--debug-addr="+debug) // the last flag wins
		cmd.Env = append(cmd.Env, "EVENTPLANE_PPROF=true")
		return cmd, func(ctx context.Context) {
			if scrape != nil {
				go scrape(ctx)
			}
			for ctx.Err() == nil { // until the debug server answers
				if fetch(ctx, "http://"+debug+"/debug/pprof/", filepath.Join(b.o.profile, "index.html")) == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			// The profile runs its whole length even when the queue is empty
			// sooner (an idle consumer adds next to nothing to it).
			ctx = context.WithoutCancel(ctx)
			if err := fetch(ctx, "http://"+debug+"/debug/pprof/profile?seconds="+strconv.Itoa(b.o.profileSeconds), cpuFile); err != nil {
				fmt.Fprintf(os.Stderr, "floorbench: CPU profile: %v\n", err)
			}
			if err := fetch(ctx, "http://"+debug+"/debug/pprof/heap", heapFile); err != nil {
				fmt.Fprintf(os.Stderr, "floorbench: heap profile: %v\n", err)
			}
		}, nil
	}}
	r, err := b.drain(ctx, "profile"+suffix, c)
	if err != nil {
		return err
	}
	what := "telemetry off"
	if telemetry {
		what = "telemetry on"
	}
	fmt.Printf("\nprofiled run, %s: %.3f CPU s/1,000 events, %.1f MB peak RSS, %.2f spans/event; profiles in %s (go tool pprof -top %s)\n",
		what, cpuPer1000(r, b.o.events), mb(r.rssKB), float64(r.spans)/float64(b.o.events), b.o.profile, cpuFile)
	return nil
}

func fetch(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(file, body, 0o600)
}

// counter is a reverse proxy in front of ElasticMQ that counts requests by
// their X-Amz-Target operation (the SQS JSON protocol).
type counter struct {
	url string
	srv *http.Server
	mu  sync.Mutex
	ops map[string]int64
}

func newCounter(target string) (*counter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &counter{url: "http://" + ln.Addr().String(), ops: map[string]int64{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a long poll cut by SIGTERM is expected
	c.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(op, '.'); i >= 0 {
			op = op[i+1:]
		}
		c.mu.Lock()
		c.ops[op]++
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *counter) reset() { c.mu.Lock(); c.ops = map[string]int64{}; c.mu.Unlock() }
func (c *counter) get(op string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}
func (c *counter) close() { _ = c.srv.Close() }

// spanSink is an OTLP/HTTP trace receiver on loopback that decodes each
// export (protobuf ExportTraceServiceRequest, as the OTLP specification
// defines for POST /v1/traces), counts its spans and drops them.
type spanSink struct {
	url   string
	srv   *http.Server
	spans atomic.Int64
}

func newSpanSink() (*spanSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &spanSink{url: "http://" + ln.Addr().String()}
	ok, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				s.spans.Add(int64(len(ss.Spans)))
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(ok)
	})}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *spanSink) close() { _ = s.srv.Close() }
