package flows

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/bootstrap"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/idempotency"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/sqs"
	"github.com/eventplane/eventplane/consumers/topology"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	pgserver.StopShared()
	os.Exit(code)
}

// requests counts AWS requests by service and API.
type requests struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *requests) add(service, api string) {
	r.mu.Lock()
	r.n[service+"."+api]++
	r.mu.Unlock()
}

func (r *requests) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.n {
		out[k] = v
	}
	return out
}

type platform struct {
	t       *testing.T
	cfg     aws.Config
	c       bootstrap.Clients
	res     *bootstrap.Resources
	counted *requests
}

func setup(t *testing.T, prefix string) *platform {
	t.Helper()
	top, err := topology.Load("../../../api/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := motoserver.Shared(t).Config()
	res, err := bootstrap.Apply(context.Background(), bootstrap.NewClients(cfg), top, prefix)
	if err != nil {
		t.Fatal(err)
	}
	p := &platform{t: t, res: res, counted: &requests{n: map[string]int{}}}
	p.cfg = cfg.Copy()
	p.cfg.APIOptions = append(p.cfg.APIOptions, awsconf.CountRequests(p.counted.add))
	p.c = bootstrap.NewClients(p.cfg)
	return p
}

// consume runs a consumer on queue with routes until the test ends.
func (p *platform) consume(queue string, maxInFlight int, rs ...route.Route[delivery.Handler]) *metrics.Metrics {
	p.t.Helper()
	src, err := sqs.New(context.Background(), p.c.SQS, sqs.Config{QueueURL: p.res.QueueURLs[queue], WaitTime: time.Second})
	if err != nil {
		p.t.Fatal(err)
	}
	m := metrics.New()
	store := idempotency.NewDynamoDB(p.c.DynamoDB, p.res.Tables["idempotency"])
	eng, err := engine.New(engine.Options{Source: src, Routes: rs, MaxInFlight: maxInFlight, FlushInterval: 50 * time.Millisecond,
		Metrics: m, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Middlewares: []delivery.Middleware{idempotency.Middleware(store, idempotency.Options{})}})
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	p.t.Cleanup(func() { cancel(); <-done })
	return m
}

func (p *platform) depth(url string) int {
	out, err := p.c.SQS.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		p.t.Fatal(err)
	}
	a, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	b, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return a + b
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testserver.WaitFor(t, timeout, 100*time.Millisecond, what, cond)
}

func orderEvent(i int, total float64) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"order-%03d","source":"https://shop.example.com/orders","type":"io.eventplane.demo.order.placed.v1",`+
		`"time":"2026-11-20T17:%02d:00Z","datacontenttype":"application/json","data":{"orderId":"o-%03d","customerId":"c-%d","currency":"EUR","total":%g}}`,
		i, i%60, i, i%7, total)
}

// Flow 2: producer -> SQS -> consumer -> store (DynamoDB) + archive (S3 lake),
// with a duplicate that has one effect and a poison message that lands in the
// DLQ with its reason. Reports AWS requests per event at steady state.
func TestFlow2QueueToStoreAndLake(t *testing.T) {
	p := setup(t, "f2")
	const n = 200
	ctx := context.Background()
	queue := p.res.QueueURLs["orders"]
	for i := 0; i < n; i += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := i; j < i+10; j++ {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(orderEvent(j, float64(j)))})
		}
		if _, err := p.c.SQS.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	// The same event again, and a poison message.
	p.c.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(orderEvent(7, 7))})
	p.c.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(`{"specversion":"1.0","id":"bad"`)})
	before := p.counted.snapshot()

	store, err := handlers.NewStore(p.c.DynamoDB, handlers.StoreOptions{Table: p.res.Tables["orders"],
		Key: map[string]string{"pk": "order#{{data.orderId}}", "sk": "state"}})
	if err != nil {
		t.Fatal(err)
	}
	archive, err := handlers.NewArchive(p.c.S3, handlers.ArchiveOptions{Bucket: p.res.Buckets["lake"], MaxEvents: 100, MaxAge: "2s"})
	if err != nil {
		t.Fatal(err)
	}
	m := p.consume("orders", 200,
		route.Route[delivery.Handler]{Name: "store", Pattern: `{"type": [{"prefix": "io.eventplane.demo.order.placed."}]}`, Handler: store},
		route.Route[delivery.Handler]{Name: "archive", Handler: archive},
	)
	eventually(t, 90*time.Second, "orders queue drained", func() bool { return p.depth(queue) == 0 })
	after := p.counted.snapshot()

	items, err := p.c.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(p.res.Tables["orders"]), Select: "COUNT"})
	if err != nil {
		t.Fatal(err)
	}
	if items.Count != n {
		t.Errorf("%d order items, want %d", items.Count, n)
	}
	ids := map[string]int{}
	list, err := p.c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(p.res.Buckets["lake"])})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		obj, err := p.c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.res.Buckets["lake"]), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			var e ce.Event
			if err := e.UnmarshalJSON(sc.Bytes()); err != nil {
				t.Fatal(err)
			}
			ids[e.ID()]++
		}
		obj.Body.Close()
	}
	if len(ids) != n {
		t.Errorf("%d distinct events in the lake, want %d", len(ids), n)
	}
	// The poison message is in the DLQ with its reason.
	dlq, err := p.c.SQS.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(p.res.DLQURLs["orders"]), MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	if err != nil || len(dlq.Messages) != 1 || !strings.HasPrefix(aws.ToString(dlq.Messages[0].MessageAttributes[delivery.AttrFailureReason].StringValue), "undecodable: sqs: body: invalid JSON") {
		t.Fatalf("DLQ: %v %+v", err, dlq)
	}
	// order-007 was sent twice (a redelivery of another message would count too).
	if got := testutil.ToFloat64(m.Duplicates); got < 1 {
		t.Errorf("duplicates skipped = %v, want at least 1", got)
	}
	events := float64(n + 2)
	delta := func(k string) float64 { return float64(after[k] - before[k]) }
	sqsPer := (delta("SQS.ReceiveMessage") + delta("SQS.DeleteMessageBatch")) / events
	ddbPer := (delta("DynamoDB.PutItem") + delta("DynamoDB.UpdateItem") + delta("DynamoDB.DeleteItem")) / events
	s3Per := delta("S3.PutObject") / events
	t.Logf("per event: %.3f SQS requests (receive+delete), %.3f DynamoDB writes, %.4f S3 PUTs (%v)", sqsPer, ddbPer, s3Per, after)
	if ddbPer > 1.05 {
		t.Errorf("%.3f DynamoDB writes per event, want about 1 (store folds idempotency into its write; the lake needs none)", ddbPer)
	}
	// The floor is 0.2 (receives and deletes of 10); the short 1s long-poll
	// of this test adds empty receives while the last archive batch waits.
	if sqsPer > 0.4 {
		t.Errorf("%.3f SQS requests per event: receives or deletes are not batched", sqsPer)
	}
	if s3Per > 0.05 {
		t.Errorf("%.4f S3 PUTs per event: batches are not filling", s3Per)
	}
}

// Flow 3: one event published to an SNS topic reaches two queues — one with
// a filter policy on the message body — and two consumers work in parallel:
// analytics inserts every order into PostgreSQL (sql), alerts forwards the
// big ones to the alerts topic (publish).
func TestFlow3PubSubFanOut(t *testing.T) {
	p := setup(t, "f3")
	ctx := context.Background()
	pg := pgserver.Shared(t)
	rows, err := handlers.NewSQL(ctx, pg.DSN, handlers.SQLOptions{Table: "order_analytics"}, handlers.SQLAuth{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rows.Close() })
	notify, err := handlers.NewPublish(handlers.PublishOptions{TopicARN: p.res.Topics["alerts"]}, nil, p.c.SNS, nil)
	if err != nil {
		t.Fatal(err)
	}
	var alerted sync.Map
	p.consume("order-analytics", 20, route.Route[delivery.Handler]{Name: "rows", Handler: rows})
	p.consume("order-alerts", 20, route.Route[delivery.Handler]{Name: "notify", Pattern: `{"type": ["io.eventplane.demo.order.placed.v1"]}`,
		Handler: delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			alerted.Store(e.ID(), true)
			return notify.Handle(ctx, e)
		})})
	// The topic carries EventBridge events (the orders-placed rule targets it).
	published := p.counted.snapshot()["SNS.Publish"]
	run := strconv.FormatInt(time.Now().UnixNano(), 36) // ids unique per run: -count=N reruns are not duplicates
	for i := range 10 {
		total := 100 * (i + 1) // at most 800: below the alert threshold of 1000
		if i >= 8 {
			total = 5000
		}
		msg := fmt.Sprintf(`{"version":"0","id":"eb-%s-%d","detail-type":"io.eventplane.demo.order.placed.v1","source":"shop","account":"123456789012",`+
			`"time":"2026-11-20T17:00:00Z","region":"us-east-1","resources":[],"detail":{"orderId":"o-%d","total":%d}}`, run, i, i, total)
		if _, err := p.c.SNS.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(p.res.Topics["order-events"]), Message: aws.String(msg)}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func() (n int) {
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM order_analytics WHERE id LIKE $1`, "eb-"+run+"-%").Scan(&n)
		return n
	}
	alerts := func() (n int) {
		alerted.Range(func(any, any) bool { n++; return true })
		return n
	}
	eventually(t, 60*time.Second, "both consumers done", func() bool { return count() == 10 && alerts() == 2 })
	time.Sleep(2 * time.Second)
	if count() != 10 || alerts() != 2 {
		t.Fatalf("analytics rows %d (want 10), alerts %d (want the 2 orders above 1000)", count(), alerts())
	}
	for _, id := range []string{"eb-" + run + "-8", "eb-" + run + "-9"} {
		if _, ok := alerted.Load(id); !ok {
			t.Errorf("alert consumer did not get %s", id)
		}
	}
	var big int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM order_analytics WHERE id LIKE $1 AND (data->>'total')::int > 1000`, "eb-"+run+"-%").Scan(&big); err != nil || big != 2 {
		t.Fatalf("PostgreSQL holds %d big orders (%v), want 2", big, err)
	}
	if n := p.counted.snapshot()["SNS.Publish"] - published - 10; n != 2 {
		t.Errorf("%d alerts published to the alerts topic, want 2", n)
	}
}

// Flow 1: S3 upload -> EventBridge rule (default bus) -> queue -> file
// handler -> per-record items and a per-file summary in DynamoDB; bad rows
// are reported, not fatal; a completion event goes to the main bus.
func TestFlow1UploadToResults(t *testing.T) {
	p := setup(t, "f1")
	ctx := context.Background()
	file, err := handlers.NewFile(handlers.FileAPI{S3: p.c.S3, DynamoDB: p.c.DynamoDB, EventBridge: p.c.EventBridge},
		handlers.FileOptions{Table: p.res.Tables["files"], Required: []string{"orderId", "total"}, Numeric: []string{"total"},
			CompletionBus: p.res.Buses["main"]})
	if err != nil {
		t.Fatal(err)
	}
	p.consume("file-uploads", 10, route.Route[delivery.Handler]{Name: "parse", Pattern: `{"type": ["Object Created"]}`, Handler: file})
	csv := "orderId,customerId,total\n" +
		"o-1,c-1,10.5\n" +
		"o-2,c-2,20\n" +
		"o-3,c-3,\n" + // line 4: missing total
		"o-4,c-4,abc\n" + // line 5: not a number
		"o-5,c-5,7\n" +
		"o-6,c-6,8\n" +
		"o-7,c-7,9\n"
	if _, err := p.c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(p.res.Buckets["uploads"]), Key: aws.String("batch/orders-2026-11-20.csv"),
		Body: strings.NewReader(csv), ContentLength: aws.Int64(int64(len(csv)))}); err != nil {
		t.Fatal(err)
	}
	pk := "file#" + p.res.Buckets["uploads"] + "/batch/orders-2026-11-20.csv"
	var summary map[string]any
	eventually(t, 60*time.Second, "file summary written", func() bool {
		out, err := p.c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.res.Tables["files"]),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: "summary"}}})
		if err != nil || out.Item == nil {
			return false
		}
		return attributevalue.UnmarshalMap(out.Item, &summary) == nil
	})
	if summary["records"] != float64(5) || summary["rejected"] != float64(2) {
		t.Fatalf("summary = %v", summary)
	}
	errs, _ := summary["errors"].([]any)
	if len(errs) != 2 || !strings.Contains(fmt.Sprint(errs), "missing total") || !strings.Contains(fmt.Sprint(errs), `total "abc" is not a number`) {
		t.Fatalf("errors = %v", errs)
	}
	q, err := p.c.DynamoDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(p.res.Tables["files"]),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :r)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": &ddbtypes.AttributeValueMemberS{Value: pk}, ":r": &ddbtypes.AttributeValueMemberS{Value: "record#"}}})
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != 5 {
		t.Fatalf("%d record items, want 5", q.Count)
	}
	if n := p.counted.snapshot()["EventBridge.PutEvents"]; n < 1 {
		t.Error("no completion event published")
	}
}

// Flow 4: a scheduled rule's event -> aggregate -> a report item in DynamoDB
// and a report object in S3. The Scheduled Event is put on the reports queue
// exactly as the schedule rule's target would receive it (a rate(1 hour)
// schedule cannot be waited for in a test).
func TestFlow4ScheduledReport(t *testing.T) {
	p := setup(t, "f4")
	ctx := context.Background()
	store, err := handlers.NewStore(p.c.DynamoDB, handlers.StoreOptions{Table: p.res.Tables["orders"],
		Key: map[string]string{"pk": "order#{{data.orderId}}", "sk": "state"}})
	if err != nil {
		t.Fatal(err)
	}
	// Orders at 17:00..17:04 (in the window) and one at 15:30 (outside it).
	for i := range 5 {
		if err := store.Handle(ctx, storedOrder(t, i, float64(10*(i+1)), time.Date(2026, 11, 20, 17, i, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Handle(ctx, storedOrder(t, 99, 1000, time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	agg, err := handlers.NewAggregate(handlers.AggregateAPI{DynamoDB: p.c.DynamoDB, S3: p.c.S3}, handlers.AggregateOptions{
		Name: "orders-hourly", SourceTable: p.res.Tables["orders"], Window: "1h", Sum: []string{"total"},
		ReportTable: p.res.Tables["reports"], ReportBucket: p.res.Buckets["lake"]})
	if err != nil {
		t.Fatal(err)
	}
	p.consume("reports", 5, route.Route[delivery.Handler]{Name: "aggregate",
		Pattern: `{"source": ["aws.events"], "type": ["Scheduled Event"]}`, Handler: agg})
	scheduled := `{"version":"0","id":"sched-1","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",` +
		`"time":"2026-11-20T18:00:00Z","region":"us-east-1","resources":["` + p.res.Rules["hourly-report"] + `"],"detail":{}}`
	if _, err := p.c.SQS.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(p.res.QueueURLs["reports"]), MessageBody: aws.String(scheduled)}); err != nil {
		t.Fatal(err)
	}
	var report handlers.Report
	eventually(t, 60*time.Second, "report stored", func() bool {
		out, err := p.c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.res.Tables["reports"]),
			Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "report#orders-hourly"},
				"sk": &ddbtypes.AttributeValueMemberS{Value: "2026-11-20T17:00:00Z"}}})
		return err == nil && out.Item != nil && attributevalue.UnmarshalMap(out.Item, &report) == nil
	})
	const typ = "io.eventplane.demo.order.placed.v1"
	if report.Counts[typ] != 5 || report.Sums[typ+".total"] != 150 {
		t.Fatalf("report = %+v: want 5 orders totalling 150 in 17:00-18:00", report)
	}
	obj, err := p.c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(p.res.Buckets["lake"]), Key: aws.String("reports/orders-hourly/2026-11-20T17-00-00Z.json")})
	if err != nil {
		t.Fatalf("report object: %v", err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !strings.Contains(string(b), `"`+typ+`": 5`) {
		t.Fatalf("report object = %s", b)
	}
}

func storedOrder(t *testing.T, i int, total float64, at time.Time) *ce.Event {
	t.Helper()
	var e ce.Event
	if err := e.UnmarshalJSON([]byte(orderEvent(i, total))); err != nil {
		t.Fatal(err)
	}
	e.SetTime(at)
	return &e
}
