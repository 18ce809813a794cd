package handlers

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func s3Client(t *testing.T, puts *atomic.Int32) *s3.Client {
	cfg := motoserver.Shared(t).Config()
	cfg.APIOptions = append(cfg.APIOptions, awsconf.CountRequests(func(_, api string) {
		if api == "PutObject" {
			puts.Add(1)
		}
	}))
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

func TestArchiveGroupCommitsPartitionedGzipJSONLines(t *testing.T) {
	var puts atomic.Int32
	client := s3Client(t, &puts)
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	a, err := NewArchive(client, ArchiveOptions{Bucket: "lake", MaxEvents: 10, MaxAge: "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 17, 5, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, 25)
	for i := range 25 {
		typ := "io.eventplane.demo.order.placed.v1"
		if i%5 == 0 {
			typ = "io.eventplane.demo.payment.captured.v1"
		}
		e := cloudevents.NewEvent()
		e.SetID(fmt.Sprint("e", i))
		e.SetSource("shop")
		e.SetType(typ)
		e.SetTime(at)
		_ = e.SetData(cloudevents.ApplicationJSON, map[string]int{"n": i})
		wg.Add(1)
		go func(e ce.Event) {
			defer wg.Done()
			errs <- a.Handle(ctx, &e)
		}(e)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 20 orders -> 2 full batches; 5 payments -> 1 batch flushed by age.
	if n := puts.Load(); n != 3 {
		t.Errorf("%d PutObject calls for 25 events in 2 partitions with batches of 10, want 3", n)
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("lake")})
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, o := range list.Contents {
		key := aws.ToString(o.Key)
		if !strings.HasPrefix(key, "events/type=io.eventplane.demo.") || !strings.Contains(key, "/year=2026/month=11/day=20/hour=17/") || !strings.HasSuffix(key, ".jsonl.gz") {
			t.Errorf("object key %s is not partitioned by type/year/month/day/hour", key)
		}
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatalf("%s is not gzip: %v", key, err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			var e ce.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: line is not a CloudEvent: %v", key, err)
			}
			if !strings.Contains(key, "type="+e.Type()+"/") {
				t.Errorf("event of type %s in %s", e.Type(), key)
			}
			lines++
		}
		obj.Body.Close()
	}
	if lines != 25 {
		t.Fatalf("%d events in the lake, want 25", lines)
	}
}

func TestArchiveReportsWriteFailures(t *testing.T) {
	var puts atomic.Int32
	a, _ := NewArchive(s3Client(t, &puts), ArchiveOptions{Bucket: "no-such-bucket", MaxEvents: 1})
	e := cloudevents.NewEvent()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	if err := a.Handle(context.Background(), &e); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("err = %v: a failed write must fail the event so that it is retried", err)
	}
}
