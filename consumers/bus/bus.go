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
	"strings"
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

// FailedEntries is PutEvents' error when not every entry was accepted: it
// accounts for each entry that is not on the bus, so that a caller can
// resend only those (and knows which would fail again).
type FailedEntries struct {
	// Failed of Of entries (all of PutEvents' entries) were not accepted.
	Failed, Of int
	// Code and Message are the first rejected entry's (by index).
	Code, Message string
	// Retryable is false when any entry failed with a non-retryable code:
	// sending the same entries again will fail again.
	Retryable bool
	// Entries are the entries EventBridge answered with an error code (after
	// the retries of the retryable ones), by index in PutEvents' entries.
	Entries []Failure
	// Unsent are the indexes of the entries not sent because Err ended the
	// sends (a request error, or ctx done).
	Unsent []int
	// Err is the error that ended the sends, if one did.
	Err error
}

// Failure is one entry EventBridge did not accept: its index in PutEvents'
// entries and the PutEventsResultEntry's ErrorCode and ErrorMessage.
type Failure struct {
	Index         int
	Code, Message string
	Retryable     bool
}

func (e *FailedEntries) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "PutEvents: %d of %d events ", e.Failed, e.Of)
	if len(e.Entries) > 0 {
		how := "rejected"
		if e.Retryable {
			how = "still failing after retries"
		}
		if e.Err != nil {
			fmt.Fprintf(&b, "not accepted: %d ", len(e.Entries))
		}
		fmt.Fprintf(&b, "%s: %s: %s", how, e.Code, e.Message)
		if e.Err != nil {
			b.WriteString("; ")
		}
	}
	if e.Err != nil {
		fmt.Fprintf(&b, "%d not sent: %v", len(e.Unsent), e.Err)
	}
	return b.String()
}

// Unwrap returns the error that ended the sends.
func (e *FailedEntries) Unwrap() error { return e.Err }

// PutEvents sends entries in batches of 10. Entries that fail with a
// retryable code (partial failures) are resent after a jittered exponential
// backoff, up to Attempts requests; entries that fail with any other code are
// not resent, and the next batches are still sent. A request error (the
// SDK's retryer has already retried it) or a done ctx ends the sends at once.
// What is not accepted in the end is a *FailedEntries accounting for each
// such entry, wrapping the error that ended the sends, if any.
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
	fe := &FailedEntries{Of: len(entries), Retryable: true}
	for start := 0; start < len(entries); start += 10 {
		end := min(start+10, len(entries))
		if err := putBatch(ctx, api, entries[start:end], start, fe); err != nil {
			fe.Err = err
			for i := end; i < len(entries); i++ {
				fe.Unsent = append(fe.Unsent, i)
			}
			break
		}
	}
	if len(fe.Entries) == 0 && len(fe.Unsent) == 0 {
		return nil
	}
	slices.SortFunc(fe.Entries, func(a, b Failure) int { return a.Index - b.Index })
	fe.Failed = len(fe.Entries) + len(fe.Unsent)
	for _, f := range fe.Entries {
		fe.Retryable = fe.Retryable && f.Retryable
	}
	if len(fe.Entries) > 0 {
		fe.Code, fe.Message = fe.Entries[0].Code, fe.Entries[0].Message
	}
	return fe
}

// putBatch sends batch (at most 10 entries, the first being PutEvents'
// entry base), resending the entries that fail with a retryable code, and
// adds what is not accepted in the end to fe. A request error or a done ctx
// ends it with that error: the entries not yet sent go to fe.Unsent, those
// waiting for a resend to fe.Entries with their last failure.
func putBatch(ctx context.Context, api API, batch []ebtypes.PutEventsRequestEntry, base int, fe *FailedEntries) error {
	of := len(batch)
	pending := make([]int, of) // indexes in batch of the entries to send
	for i := range pending {
		pending[i] = i
	}
	in := batch
	var waiting []Failure // the last failures of the entries to resend
	for attempt := 1; ; attempt++ {
		out, err := api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: in})
		if err != nil {
			if attempt == 1 {
				for _, i := range pending {
					fe.Unsent = append(fe.Unsent, base+i)
				}
			}
			fe.Entries = append(fe.Entries, waiting...)
			return err
		}
		var again []int
		waiting = waiting[:0]
		for k, i := range pending {
			// EventBridge answers one result per entry, in order; an entry
			// without one was not accepted.
			f := Failure{Index: base + i, Code: "InternalFailure", Message: fmt.Sprintf("no result for the entry (%d results for %d entries)", len(out.Entries), len(in)), Retryable: true}
			if k < len(out.Entries) {
				r := &out.Entries[k]
				if f.Code = aws.ToString(r.ErrorCode); f.Code == "" {
					continue
				}
				f.Message, f.Retryable = aws.ToString(r.ErrorMessage), Retryable(f.Code)
			}
			if !f.Retryable {
				fe.Entries = append(fe.Entries, f)
				continue
			}
			again = append(again, i)
			waiting = append(waiting, f)
		}
		if len(again) == 0 {
			return nil
		}
		if attempt == Attempts {
			fe.Entries = append(fe.Entries, waiting...)
			return nil
		}
		pending, in = again, make([]ebtypes.PutEventsRequestEntry, len(again))
		for k, i := range again {
			in[k] = batch[i]
		}
		if err := wait(ctx, backoff(attempt)); err != nil {
			fe.Entries = append(fe.Entries, waiting...)
			return fmt.Errorf("waiting to resend %d of %d events: %w", len(again), of, err)
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
