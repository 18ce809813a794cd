package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/topology"
)

// A function target that keeps failing is run as Lambda runs an
// asynchronous invocation (the policy Terraform gives every function: 2
// retries), not with the rule's EventBridge policy (185 attempts over 24 h
// by default, maximumRetryAttempts 4 on uploads-incoming); then Lambda's
// invocation record goes to the function's on-failure destination.
func TestFunctionTargetFollowsLambdaAsyncPolicy(t *testing.T) {
	var calls atomic.Int32
	fail := func(context.Context, []byte) error { calls.Add(1); return errors.New("sink down") }
	onFailure := memqueue.New(memqueue.Config{Name: "eventbridge-dlq"})
	ruleDLQ := memqueue.New(memqueue.Config{Name: "rule-dlq"})
	set := route.NewSet()
	if _, err := set.Add(json.RawMessage(`{"source":["shop"]}`)); err != nil {
		t.Fatal(err)
	}
	r := &rule{name: "r", count: &Counter{}, targets: []target{{fn: fail, name: "files", onFailure: onFailure, dlq: ruleDLQ,
		spec: topology.Target{Lambda: "files", Retry: &topology.Retry{MaximumRetryAttempts: 4, MaximumEventAgeSeconds: 3600}}}}}
	b := &Bus{log: slog.New(slog.NewTextHandler(io.Discard, nil)), RetryBase: time.Millisecond,
		buses: map[string]*busRules{"default": {set: set, rules: []*rule{r}}}}
	if _, err := b.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("shop"), DetailType: aws.String("t"), Detail: aws.String(`{"a":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	b.Wait()
	if calls.Load() != 3 {
		t.Errorf("the function ran %d times, want 3 (1 + Lambda's 2 retries)", calls.Load())
	}
	if n := len(ruleDLQ.Peek()); n != 0 {
		t.Errorf("the rule's DLQ got %d messages: Lambda accepted the event, so EventBridge's policy does not apply", n)
	}
	msgs := onFailure.Peek()
	if len(msgs) != 1 {
		t.Fatalf("on-failure destination holds %d records, want 1", len(msgs))
	}
	var rec struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  map[string]any    `json:"requestPayload"`
		ResponsePayload map[string]string `json:"responsePayload"`
	}
	if err := json.Unmarshal([]byte(msgs[0].Body), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 3 ||
		rec.RequestPayload["source"] != "shop" || rec.ResponsePayload["errorMessage"] != "sink down" {
		t.Errorf("invocation record %s", msgs[0].Body)
	}
}
