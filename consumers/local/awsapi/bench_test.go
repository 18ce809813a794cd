package awsapi_test

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/local"
)

// BenchmarkSQSRoundTrip measures what a consumer's poll loop costs per
// round trip: ReceiveMessage (up to 10 messages) and DeleteMessageBatch of
// what came back, one client, over loopback HTTP, against eventplane dev's
// SQS and against moto in the same run (hack/bench.sh prints the ratio).
// One op is one receive plus one delete batch; the queue is loaded with 10
// messages per op before the timer starts.
func BenchmarkSQSRoundTrip(b *testing.B) {
	s := start(b, queuesTopology)
	moto, err := motoserver.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(moto.Stop)
	mc := sqs.NewFromConfig(moto.Config())
	q, err := mc.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("bench-round-trip"),
		Attributes: map[string]string{"VisibilityTimeout": "300"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, target := range []struct {
		name, url string
		c         *sqs.Client
	}{
		{"eventplane", s.queueURL("plain"), s.sqs()},
		{"moto", aws.ToString(q.QueueUrl), mc},
	} {
		b.Run(target.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				var entries []sqstypes.SendMessageBatchRequestEntry
				for j := range 10 {
					entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)),
						MessageBody: aws.String(fmt.Sprintf(`{"specversion":"1.0","id":"rt-%d-%d","source":"bench","type":"t.v1"}`, i, j))})
				}
				if _, err := target.c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(target.url), Entries: entries}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			got := 0
			for range b.N {
				out, err := target.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(target.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Messages) == 0 {
					continue
				}
				var del []sqstypes.DeleteMessageBatchRequestEntry
				for i, m := range out.Messages {
					del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				res, err := target.c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(target.url), Entries: del})
				if err != nil || len(res.Failed) > 0 {
					b.Fatalf("DeleteMessageBatch: %v %v", err, res)
				}
				got += len(out.Messages)
			}
			b.StopTimer()
			b.ReportMetric(float64(got)/float64(b.N), "msgs/op")
			_, _ = target.c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(target.url)})
		})
	}
}

// BenchmarkAWSEndToEnd measures the local platform driven by an SDK
// producer over the AWS API (not the ingest API): aws-sdk-go-v2 PutEvents
// of 10 entries (EventBridge's limit), 8 clients, over loopback HTTP ->
// orders-placed rule -> orders queue (and the SNS fan-out) -> orders
// consumer -> embedded table, until every event is stored. One op is one
// event.
func BenchmarkAWSEndToEnd(b *testing.B) {
	if os.Getenv("GOGC") == "" { // as eventplane dev runs
		defer debug.SetGCPercent(debug.SetGCPercent(local.GCPercent))
	}
	s := start(b, repoTopology)
	c := s.events()
	const clients = 8
	work := make(chan []ebtypes.PutEventsRequestEntry)
	b.ResetTimer()
	begin := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for entries := range work {
				out, err := c.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: entries})
				if err != nil || out.FailedEntryCount != 0 {
					b.Errorf("PutEvents: %v %v", err, out)
					return
				}
			}
		}()
	}
	run := time.Now().UnixNano()
	for i := 0; i < b.N; i += 10 {
		var entries []ebtypes.PutEventsRequestEntry
		for j := i; j < min(b.N, i+10); j++ {
			id := fmt.Sprintf("e2e-%d-%d", run, j)
			entries = append(entries, ebtypes.PutEventsRequestEntry{Source: aws.String("shop"), DetailType: aws.String("io.eventplane.demo.order.placed.v1"),
				EventBusName: aws.String("local-main"),
				Detail: aws.String(fmt.Sprintf(`{"_cloudevent":{"specversion":"1.0","id":%q,"source":"shop","datacontenttype":"application/json"},`+
					`"orderId":%q,"customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`, id, id))})
		}
		work <- entries
	}
	close(work)
	wg.Wait()
	produced := time.Since(begin)
	deadline := time.Now().Add(2 * time.Minute)
	for s.p.Tables.Count()[s.p.Names.Tables["orders"]] < b.N {
		if time.Now().After(deadline) {
			b.Fatalf("orders table has %d of %d events after 2 min", s.p.Tables.Count()[s.p.Names.Tables["orders"]], b.N)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/produced.Seconds(), "produced/s")
}
