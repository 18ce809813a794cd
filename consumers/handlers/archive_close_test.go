package handlers

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// At shutdown the engine closes every handler that is an io.Closer once the
// in-flight work is done: the archive's Close writes the batches still
// waiting for MaxAge (their timers would otherwise fire after the consumer
// stopped, or never), wakes their waiters, and later events are refused
// instead of waiting an hour.
func TestArchiveCloseFlushesPendingBatches(t *testing.T) {
	var puts atomic.Int32
	client := s3Client(t, &puts)
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake-close")}); err != nil {
		t.Fatal(err)
	}
	a, err := NewArchive(client, ArchiveOptions{Bucket: "lake-close", MaxEvents: 100, MaxAge: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 17, 5, 0, 0, time.UTC)
	handled := make(chan error, 2)
	go func() { handled <- a.Handle(ctx, order("w-1", 1, at)) }()
	go func() { handled <- a.Handle(ctx, order("w-2", 2, at.Add(time.Hour))) }() // a second partition
	testserver.WaitFor(t, 5*time.Second, 5*time.Millisecond, "two batches pending", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.batches) == 2
	})
	if puts.Load() != 0 {
		t.Fatal("written before MaxAge or MaxEvents")
	}
	c, ok := any(a).(io.Closer)
	if !ok {
		t.Fatal("*Archive is not an io.Closer: the engine cannot flush its batches at shutdown")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case err := <-handled:
			if err != nil {
				t.Fatalf("Handle after Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Handle still waiting 5s after Close")
		}
	}
	if n := puts.Load(); n != 2 {
		t.Fatalf("%d objects written by Close, want one per pending batch (2)", n)
	}
	a.mu.Lock()
	left := len(a.batches)
	a.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d batches (and their timers) left after Close", left)
	}
	done := make(chan error, 1)
	go func() { done <- a.Handle(ctx, order("late", 3, at)) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Handle after Close accepted an event it will never write")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Handle after Close waits for a batch that is never written")
	}
}
