// Package bus puts CloudEvents on an EventBridge bus: the mapping of a
// CloudEvent onto a PutEvents entry, and batched sends that retry partial
// failures. The publish and file handlers and the ingest function share it;
// it imports nothing but the EventBridge client and the event model, so
// Lambda zips stay small.
package bus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/event"
)

// API is the part of the EventBridge client used here.
type API interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Entry maps a CloudEvent onto a PutEvents entry (the wire contract of the
// README): source, type as detail-type, JSON object data as detail (other
// data is wrapped as {"data": ...} or {"data_base64": ...}), subject as the
// single resource, time, and the event's own attributes under
// event.DetailKey in the detail — EventBridge gives every entry a new id, so
// the producer's id, and with it deduplication, would be lost otherwise.
func Entry(bus string, e *ce.Event) ebtypes.PutEventsRequestEntry {
	entry := ebtypes.PutEventsRequestEntry{
		EventBusName: aws.String(bus),
		Source:       aws.String(e.Source()),
		DetailType:   aws.String(e.Type()),
		Detail:       aws.String(event.EventBridgeDetail(e)),
	}
	if s := e.Subject(); s != "" {
		entry.Resources = []string{s}
	}
	if t := e.Time(); !t.IsZero() {
		entry.Time = aws.Time(t)
	}
	// TraceHeader takes an X-Ray header only (AWS drops what it cannot
	// parse): the event's own trace context (the CloudEvents distributed
	// tracing extension), else PutEvents sets the caller's span.
	if tp, ok := e.Extensions()[event.ExtTraceParent].(string); ok {
		if h, ok := event.TraceparentToXRay(tp); ok {
			entry.TraceHeader = aws.String(h)
		}
	}
	return entry
}

// Attempts is how many requests PutEvents sends for an entry that keeps
// failing with a retryable error code.
const Attempts = 3

// retryable are the PutEventsResultEntry error codes the EventBridge API
// reference lists as retryable; every other code (MalformedDetail,
// InvalidArgument, AccessDeniedException, NotAuthorizedForSourceException,
// ...) fails the same way when resent.
var retryable = map[string]bool{"InternalFailure": true, "ThrottlingException": true}

// Retryable reports whether a failed entry's error code is one EventBridge
// documents as retryable.
func Retryable(code string) bool { return retryable[code] }

// FailedEntries is the error for entries EventBridge did not accept.
type FailedEntries struct {
	// Failed of Of entries of one batch were not accepted.
	Failed, Of int
	// Code and Message are the first failure's.
	Code, Message string
	// Retryable is false when any entry failed with a non-retryable code:
	// sending the same entries again will fail again.
	Retryable bool
}

func (e *FailedEntries) Error() string {
	how := "rejected"
	if e.Retryable {
		how = "still failing after retries"
	}
	return fmt.Sprintf("PutEvents: %d of %d events %s: %s: %s", e.Failed, e.Of, how, e.Code, e.Message)
}

// PutEvents sends entries in batches of 10. Entries that fail with a
// retryable code (partial failures) are resent after a jittered exponential
// backoff, up to Attempts requests; entries that fail with any other code are
// not resent. What is not accepted in the end is a *FailedEntries naming the
// first failure. A request error is returned as it is (the SDK's retryer has
// already retried it), and a done ctx ends the wait at once with ctx's error.
// The span in ctx, if any, becomes the TraceHeader of every entry without one
// (X-Ray format, through OpenTelemetry's X-Ray propagator): EventBridge passes
// it on to the rule's targets (SQS as the AWSTraceHeader system attribute).
func PutEvents(ctx context.Context, api API, entries []ebtypes.PutEventsRequestEntry) error {
	if h := event.XRayHeader(ctx); h != "" {
		entries = slices.Clone(entries)
		for i := range entries {
			if entries[i].TraceHeader == nil {
				entries[i].TraceHeader = aws.String(h)
			}
		}
	}
	for start := 0; start < len(entries); start += 10 {
		if err := putBatch(ctx, api, entries[start:min(start+10, len(entries))]); err != nil {
			return err
		}
	}
	return nil
}

func putBatch(ctx context.Context, api API, batch []ebtypes.PutEventsRequestEntry) error {
	of := len(batch)
	var rejected *FailedEntries // non-retryable failures, reported once the rest is settled
	for attempt := 1; ; attempt++ {
		out, err := api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
		if err != nil {
			return fmt.Errorf("PutEvents: %w", err)
		}
		var again []ebtypes.PutEventsRequestEntry
		var first *ebtypes.PutEventsResultEntry
		for i := range out.Entries {
			r := &out.Entries[i]
			switch code := aws.ToString(r.ErrorCode); {
			case code == "":
			case Retryable(code):
				again = append(again, batch[i])
				if first == nil {
					first = r
				}
			case rejected == nil:
				rejected = &FailedEntries{Failed: 1, Of: of, Code: code, Message: aws.ToString(r.ErrorMessage)}
			default:
				rejected.Failed++
			}
		}
		if len(again) == 0 {
			if rejected != nil {
				return rejected
			}
			return nil
		}
		if attempt == Attempts {
			if rejected != nil {
				rejected.Failed += len(again)
				return rejected
			}
			return &FailedEntries{Failed: len(again), Of: of, Code: aws.ToString(first.ErrorCode),
				Message: aws.ToString(first.ErrorMessage), Retryable: true}
		}
		batch = again
		if err := wait(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("PutEvents: %d of %d events not sent: %w", len(again), of, err)
		}
	}
}

// backoff is the delay after the attempt-th request: full jitter over an
// exponential ceiling of 100ms, 200ms, 400ms, ... capped at 2s.
func backoff(attempt int) time.Duration {
	ceiling := 2 * time.Second
	if attempt < 5 {
		ceiling = 100 * time.Millisecond << (attempt - 1)
	}
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond // #nosec G404 -- retry jitter, not a secret
}

// wait sleeps for d or until ctx is done, whichever is first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
