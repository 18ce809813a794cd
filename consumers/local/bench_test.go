package local_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// BenchmarkLocalEndToEnd measures events per second through the whole local
// platform: HTTP ingest (batches of 100, 4 clients) -> bus rule -> orders
// queue (and the SNS fan-out) -> orders consumer -> store handler ->
// embedded table, until every event is stored. One op is one event.
func BenchmarkLocalEndToEnd(b *testing.B) {
	if os.Getenv("GOGC") == "" { // as eventplane dev runs
		defer debug.SetGCPercent(debug.SetGCPercent(local.GCPercent))
	}
	s := start(b, b.TempDir(), func(string) string { return "" })
	const batch, clients = 100, 8
	var bodies []string
	for i := 0; i < b.N; i += batch {
		var evs []string
		for j := i; j < min(b.N, i+batch); j++ {
			evs = append(evs, order(fmt.Sprintf("b-%d-%d", b.N, j), 10))
		}
		bodies = append(bodies, "["+strings.Join(evs, ",")+"]")
	}
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	work := make(chan string)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				resp, err := client.Post(s.url+"/events", "application/cloudevents-batch+json", strings.NewReader(body))
				if err != nil || resp.StatusCode != http.StatusAccepted {
					b.Errorf("POST /events: %v %v", err, resp)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for _, body := range bodies {
		work <- body
	}
	close(work)
	wg.Wait()
	ingested := time.Since(start)
	for s.p.Tables.Count()[s.p.Names.Tables["orders"]] < b.N {
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/ingested.Seconds(), "ingested/s")
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()*1e6/float64(b.N), "cpu-µs/event")
}

// cpuTime is the CPU time (user and system) the process has used: on a
// shared machine, per-event CPU moves much less with the load than events
// per second do.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLocalStoreBaseline writes the same items straight into the
// embedded table with the store handler's conditional PutItem, 100 writers
// at a time like the consumer: the storage floor the platform adds ingest,
// matching, queues and the runtime to.
func BenchmarkLocalStoreBaseline(b *testing.B) {
	top, err := topology.Load(repoTopology)
	if err != nil {
		b.Fatal(err)
	}
	tb := top.Tables[1]
	tables, err := local.OpenTables(b.TempDir()+"/t.db", []topology.Table{tb})
	if err != nil {
		b.Fatal(err)
	}
	defer tables.Close()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime(b)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				_, err := tables.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tb.Name),
					Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("order#%d", i)}, "sk": &types.AttributeValueMemberS{Value: "state"},
						"eventOrder": &types.AttributeValueMemberN{Value: "1"},
					},
					ConditionExpression:       aws.String("attribute_not_exists(#k) OR eventOrder < :o"),
					ExpressionAttributeNames:  map[string]string{"#k": "pk"},
					ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberN{Value: "1"}},
				})
				if err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()*1e6/float64(b.N), "cpu-µs/event")
}
