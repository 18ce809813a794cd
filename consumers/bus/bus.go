// Package bus puts CloudEvents on an EventBridge bus: the mapping of a
// CloudEvent onto a PutEvents entry, and batched sends that retry partial
// failures. The publish and file handlers and the ingest function share it;
// it imports nothing but the EventBridge client and the event model, so
// Lambda zips stay small.
package bus

import (
	"context"
	"fmt"
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

// PutEvents sends entries in batches of 10 and retries the entries that
// failed (partial failures), up to three rounds; what still fails is an
// error naming the first failure. The span in ctx, if any, becomes the
// TraceHeader of every entry without one (X-Ray format, through
// OpenTelemetry's X-Ray propagator): EventBridge passes it on to the rule's
// targets (SQS as the AWSTraceHeader system attribute).
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
		batch := entries[start:min(start+10, len(entries))]
		for round := 0; ; round++ {
			out, err := api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
			if err != nil {
				return fmt.Errorf("PutEvents: %w", err)
			}
			if out.FailedEntryCount == 0 {
				break
			}
			var retry []ebtypes.PutEventsRequestEntry
			var first string
			for i, r := range out.Entries {
				if r.ErrorCode != nil {
					retry = append(retry, batch[i])
					if first == "" {
						first = aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage)
					}
				}
			}
			if round == 2 {
				return fmt.Errorf("PutEvents: %d of %d events still failing after retries: %s", len(retry), len(batch), first)
			}
			batch = retry
			time.Sleep(time.Duration(100*(round+1)) * time.Millisecond)
		}
	}
	return nil
}
