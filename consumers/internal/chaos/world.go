package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

// Env is what every scenario runs on: moto, the proxy, the consumer binary
// and clients of the proxy's clean listener.
type Env struct {
	Moto   *motoserver.Server
	Proxy  *Proxy
	Bin    string
	LogDir string
	SQS    *sqs.Client
	SNS    *sns.Client
	DDB    *dynamodb.Client
}

// NewEnv starts moto and the proxy and builds the consumer binary into dir.
// The binary is built from the module that holds the working directory, or
// from repo when it is set.
func NewEnv(ctx context.Context, dir, repo string) (*Env, error) {
	bin := filepath.Join(dir, "consumer")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/eventplane/eventplane/consumers/cmd/consumer")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build consumer: %v\n%s", err, out)
	}
	moto, err := motoserver.Start(ctx)
	if err != nil {
		return nil, err
	}
	proxy, err := NewProxy(moto.Endpoint)
	if err != nil {
		moto.Stop()
		return nil, err
	}
	cfg := moto.Config()
	cfg.BaseEndpoint = aws.String(proxy.CleanURL())
	hc := &http.Client{Timeout: 60 * time.Second}
	return &Env{Moto: moto, Proxy: proxy, Bin: bin, LogDir: dir,
		SQS: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.HTTPClient = hc }),
		SNS: sns.NewFromConfig(cfg, func(o *sns.Options) { o.HTTPClient = hc }),
		DDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient = hc })}, nil
}

// Close stops the proxy and moto.
func (e *Env) Close() {
	e.Proxy.Close()
	e.Moto.Stop()
}

// World is one scenario's resources: the work queue (redrive to its DLQ
// after MaxReceive receives), an SNS topic the publish handler writes to, the
// effects queue subscribed to it (raw delivery) and an idempotency table.
type World struct {
	QueueURL, DLQURL, EffectsURL, TopicARN, Table string
	// Sink is where the row's effect lands (see Scenario.Sink).
	Sink string
	// StoreTable is the store sink's table, one item per event id.
	StoreTable string
	// With the downstream sink, the effects queue is the downstream
	// consumer's work queue and effects are counted after it: it publishes
	// to Topic2ARN, whose queue Effects2URL the harness drains.
	Topic2ARN, Effects2URL string
}

// CountedURL is the queue whose messages are the row's effects.
func (w *World) CountedURL() string {
	if w.Sink == SinkDownstream {
		return w.Effects2URL
	}
	return w.EffectsURL
}

// Routes is the consumer's route configuration for the row's sink.
func (w *World) Routes() string {
	if w.Sink == SinkStore {
		return fmt.Sprintf(`[{"name":"effects","pattern":{"type":["chaos.v1"]},"handler":"store","options":{"table":%q,"key":{"pk":"evt#{{id}}"},"version":"data.n"}}]`, w.StoreTable)
	}
	return fmt.Sprintf(`[{"name":"effects","pattern":{"type":["chaos.v1"]},"handler":"publish","options":{"topicArn":%q}}]`, w.TopicARN)
}

// DownstreamRoutes is the downstream consumer's: the same events, read
// from the effects queue, published on to the second topic.
func (w *World) DownstreamRoutes() string {
	return fmt.Sprintf(`[{"name":"downstream","pattern":{"type":["chaos.v1"]},"handler":"publish","options":{"topicArn":%q}}]`, w.Topic2ARN)
}

// Sinks a row's effect can land in.
const (
	SinkSNS        = ""           // an SNS topic (standard, or FIFO with FIFOTopic)
	SinkStore      = "store"      // the DynamoDB store handler, keyed by event id
	SinkDownstream = "downstream" // SNS standard, then a downstream consumer with idempotency
)

// MaxReceive is the work queue's redrive maxReceiveCount.
const MaxReceive = 6

func (e *Env) newWorld(ctx context.Context, visibility int, fifoTopic bool, sink string) (*World, error) {
	resp, err := http.Post(e.Moto.Endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return nil, fmt.Errorf("moto reset: %w", err)
	}
	resp.Body.Close()
	w := &World{Table: "chaos-idempotency", Sink: sink, StoreTable: "chaos-store"}
	mk := func(name string, attrs map[string]string) (string, error) {
		out, err := e.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			return "", fmt.Errorf("create queue %s: %w", name, err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	if w.DLQURL, err = mk("chaos-work-dlq", nil); err != nil {
		return nil, err
	}
	dlqARN := "arn:aws:sqs:" + motoserver.Region + ":" + motoserver.Account + ":chaos-work-dlq"
	if w.QueueURL, err = mk("chaos-work", map[string]string{"VisibilityTimeout": strconv.Itoa(visibility),
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, MaxReceive)}); err != nil {
		return nil, err
	}
	// A FIFO topic (and its FIFO queue) drops a repeated deduplication id:
	// the destination that allows effectively-once publishing.
	effects, qattrs, tattrs := "chaos-effects", map[string]string(nil), map[string]string(nil)
	if fifoTopic {
		effects, qattrs, tattrs = "chaos-effects.fifo", map[string]string{"FifoQueue": "true"}, map[string]string{"FifoTopic": "true"}
	}
	if sink == SinkDownstream {
		// The downstream consumer's work queue: the same redrive as the first.
		qattrs = map[string]string{"VisibilityTimeout": strconv.Itoa(visibility),
			"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, MaxReceive)}
	}
	if w.EffectsURL, w.TopicARN, err = e.topicQueue(ctx, mk, effects, qattrs, tattrs); err != nil {
		return nil, err
	}
	if sink == SinkDownstream {
		if w.Effects2URL, w.Topic2ARN, err = e.topicQueue(ctx, mk, "chaos-effects-2", nil, nil); err != nil {
			return nil, err
		}
	}
	for _, table := range []string{w.Table, w.StoreTable} {
		if _, err := e.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
			return nil, fmt.Errorf("create table %s: %w", table, err)
		}
	}
	return w, nil
}

// topicQueue creates a topic and a queue of the same name subscribed to it
// with raw delivery (the message is the published CloudEvent).
func (e *Env) topicQueue(ctx context.Context, mk func(string, map[string]string) (string, error), name string, qattrs, tattrs map[string]string) (queueURL, topicARN string, err error) {
	if queueURL, err = mk(name, qattrs); err != nil {
		return "", "", err
	}
	topic, err := e.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: tattrs})
	if err != nil {
		return "", "", fmt.Errorf("create topic %s: %w", name, err)
	}
	if _, err := e.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint:   aws.String("arn:aws:sqs:" + motoserver.Region + ":" + motoserver.Account + ":" + name),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		return "", "", fmt.Errorf("subscribe %s: %w", name, err)
	}
	return queueURL, aws.ToString(topic.TopicArn), nil
}

// Msg is one message the harness sends: a good CloudEvent or a poison body.
type Msg struct {
	ID   string // chaos-id attribute: g00001 or p003-binary
	Body string
	Good bool
}

// Events returns n good CloudEvents (ids evt-00000...).
func Events(n int) []Msg {
	out := make([]Msg, n)
	for i := range out {
		id := fmt.Sprintf("%05d", i)
		out[i] = Msg{ID: "g" + id, Good: true,
			Body: fmt.Sprintf(`{"specversion":"1.0","id":"evt-%s","source":"chaos","type":"chaos.v1","partitionkey":"evt-%s","data":{"n":%d}}`, id, id, i)}
	}
	return out
}

// Poison returns n malformed bodies of five kinds, as an operator meets them.
func Poison(n int) []Msg {
	kinds := []struct {
		name string
		body func(i int) string
	}{
		{"garbage", func(i int) string { // random characters SQS accepts, not text of any shape
			var b strings.Builder
			for range 200 + i {
				b.WriteRune(rune(0x20 + rand.IntN(0xD7FF-0x20)))
			}
			return b.String()
		}},
		{"bigtext", func(int) string { return strings.Repeat("lorem ipsum ", 256*1024/12-10) }},
		{"sns-text", func(i int) string {
			return fmt.Sprintf(`{"Type":"Notification","MessageId":"m-%d","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"not json %d","Timestamp":"2026-12-01T00:00:00Z"}`, i, i)
		}},
		{"eb-no-detail-type", func(i int) string {
			return fmt.Sprintf(`{"version":"0","id":"eb-%d","source":"chaos","account":"123456789012","time":"2026-12-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{}}`, i)
		}},
		{"ce-bad-specversion", func(i int) string {
			return fmt.Sprintf(`{"specversion":"","id":"bad-%d","source":"chaos","type":"chaos.v1"}`, i)
		}},
	}
	out := make([]Msg, n)
	for i := range out {
		k := kinds[i%len(kinds)]
		out[i] = Msg{ID: fmt.Sprintf("p%03d-%s", i, k.name), Body: k.body(i)}
	}
	return out
}

// send loads msgs in batches of ten (one at a time for large bodies).
func (e *Env) send(ctx context.Context, url string, msgs []Msg) error {
	for i := 0; i < len(msgs); {
		var entries []types.SendMessageBatchRequestEntry
		size := 0
		for ; i < len(msgs) && len(entries) < 10 && size+len(msgs[i].Body) < 250*1024; i++ {
			size += len(msgs[i].Body)
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(entries))),
				MessageBody:       aws.String(msgs[i].Body),
				MessageAttributes: map[string]types.MessageAttributeValue{"chaos-id": {DataType: aws.String("String"), StringValue: aws.String(msgs[i].ID)}}})
		}
		if len(entries) == 0 { // one body near the 256 KiB limit
			_, err := e.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(msgs[i].Body),
				MessageAttributes: map[string]types.MessageAttributeValue{"chaos-id": {DataType: aws.String("String"), StringValue: aws.String(msgs[i].ID)}}})
			if err != nil {
				return fmt.Errorf("send %s: %w", msgs[i].ID, err)
			}
			i++
			continue
		}
		out, err := e.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return fmt.Errorf("send batch: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("send batch: %d entries failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// Tally is what the collector saw on the effects queue and the DLQ.
type Tally struct {
	mu      sync.Mutex
	effects map[string]int      // event id -> effects
	dlq     map[string][]string // chaos-id -> failure reasons (one per copy)
	last    time.Time           // last time anything arrived
}

func (t *Tally) progress() (effects, dlq int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.effects), len(t.dlq)
}

func (t *Tally) quietFor() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Since(t.last)
}

// collect drains the effects queue and the DLQ until ctx ends.
// With keepEffects the effects queue is left alone (see readEffects).
func (e *Env) collect(ctx context.Context, w *World, t *Tally, keepEffects bool) {
	var wg sync.WaitGroup
	queues := []string{w.CountedURL(), w.DLQURL}
	if keepEffects || w.Sink == SinkStore {
		queues = queues[1:]
	}
	for _, q := range queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				out, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10,
					WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
				if err != nil {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				var del []types.DeleteMessageBatchRequestEntry
				t.mu.Lock()
				for i, m := range out.Messages {
					t.last = time.Now()
					if q == w.CountedURL() {
						var ev struct {
							ID string `json:"id"`
						}
						_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &ev)
						t.effects[ev.ID]++
					} else {
						id := "unknown"
						if a, ok := m.MessageAttributes["chaos-id"]; ok {
							id = aws.ToString(a.StringValue)
						}
						reason := ""
						if a, ok := m.MessageAttributes["eventplane-failure-reason"]; ok {
							reason = aws.ToString(a.StringValue)
						}
						t.dlq[id] = append(t.dlq[id], reason)
					}
					del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				t.mu.Unlock()
				if len(del) > 0 {
					_, _ = e.SQS.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q), Entries: del})
				}
			}
		}()
	}
	wg.Wait()
}

// queueDepth is the work queue's visible + in-flight + delayed messages.
func (e *Env) queueDepth(ctx context.Context, url string) (int, error) {
	out, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
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

// Consumer is one running consumer process.
type Consumer struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	life Life
}

// Life is one consumer process's lifetime and how it ended: the suite's
// attribution of repeated effects reads it.
type Life struct {
	N          int
	Start, End time.Time // End: when the signal was sent (zero: still running)
	How        string    // "kill -9", "SIGTERM" (mid-run), "final SIGTERM"
}

func (e *Env) startConsumer(queueURL, routes, name string, n int, flags []string) (*Consumer, error) {
	args := append([]string{"--queue-url", queueURL, "--endpoint", e.Proxy.FaultyURL(), "--region", motoserver.Region,
		"--admin-addr=", "--debug-addr=", "--log-level", "warn", "--routes", routes}, flags...)
	cmd := exec.Command(e.Bin, args...)
	cmd.Env = append(os.Environ(), e.Moto.Env()...)
	logf, err := os.Create(filepath.Join(e.LogDir, fmt.Sprintf("%s-consumer-%d.log", name, n)))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &Consumer{cmd: cmd, done: make(chan struct{}), life: Life{N: n, Start: time.Now()}}
	go func() { c.err = cmd.Wait(); logf.Close(); close(c.done) }()
	return c, nil
}

// kill sends SIGKILL and waits.
func (c *Consumer) kill() {
	if c.life.End.IsZero() {
		c.life.End, c.life.How = time.Now(), "kill -9"
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// term sends SIGTERM and returns how long the process took to exit (it is
// killed after limit).
func (c *Consumer) term(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	c.life.End, c.life.How = start, "SIGTERM"
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return time.Since(start), c.err
	case <-time.After(limit):
		c.kill()
		return time.Since(start), fmt.Errorf("did not exit within %v of SIGTERM: killed", limit)
	}
}

// readEffects counts the effects left in a FIFO effects queue without
// deleting them: moto deduplicates a FIFO message only against messages
// still in the queue (SQS does for 5 minutes after the first), so the run
// keeps them there. Each event is its own message group (partitionkey).
func (e *Env) readEffects(ctx context.Context, w *World, t *Tally) {
	for empty := 0; empty < 3 && ctx.Err() == nil; {
		out, err := e.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.EffectsURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 900})
		if err != nil || len(out.Messages) == 0 {
			empty++
			continue
		}
		empty = 0
		t.mu.Lock()
		for _, m := range out.Messages {
			var ev struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &ev)
			t.effects[ev.ID]++
		}
		t.mu.Unlock()
	}
}

// puts returns, per event id, the store sink's PutItems moto applied.
func (e *Env) puts(w *World) map[string]int {
	out := map[string]int{}
	for _, c := range e.Proxy.Calls() {
		if c.Kind == "put" && c.Table == w.StoreTable && c.Status == http.StatusOK {
			out[c.ID]++
		}
	}
	return out
}

// publishes returns, per event id, the Publishes to topic moto applied.
func (e *Env) publishes(topic string) map[string]int {
	out := map[string]int{}
	for _, c := range e.Proxy.Calls() {
		if c.Kind == "publish" && c.Topic == topic && c.Status == http.StatusOK {
			out[c.ID]++
		}
	}
	return out
}

// items counts a table's items.
func (e *Env) items(ctx context.Context, table string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(e.DDB, &dynamodb.ScanInput{TableName: aws.String(table), Select: ddbtypes.SelectCount})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return n, err
		}
		n += int(out.Count)
	}
	return n, nil
}
