package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// failingBus answers every PutEvents entry with one error code.
type failingBus struct {
	code     string
	requests int
}

func (f *failingBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.requests++
	out := &eventbridge.PutEventsOutput{FailedEntryCount: int32(len(in.Entries))} // #nosec G115 -- at most 10 entries
	for range in.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(f.code), ErrorMessage: aws.String(f.code)})
	}
	return out, nil
}

// An event EventBridge rejects for what it is (MalformedDetail,
// AccessDeniedException, ...) fails the same on every redelivery: publish
// reports it as permanent, so the message goes to the DLQ with the reason
// instead of burning its receive count; throttling stays retryable.
func TestPublishRejectedByTheBusIsPermanent(t *testing.T) {
	for code, permanent := range map[string]bool{"MalformedDetail": true, "NotAuthorizedForSourceException": true, "ThrottlingException": false} {
		fb := &failingBus{code: code}
		p, err := NewPublish(PublishOptions{EventBus: "b"}, fb, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Handle(context.Background(), order("rej-1", 1, time.Now()))
		if err == nil || delivery.IsPermanent(err) != permanent {
			t.Errorf("%s: err = %v, want permanent=%v", code, err, permanent)
		}
	}
}
