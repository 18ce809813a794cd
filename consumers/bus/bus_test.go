package bus

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"
)

// fakePartial fails the first attempt of one entry, as EventBridge reports
// partial failures in a 200 response.
type fakePartial struct{ calls [][]string }

func (f *fakePartial) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	var ids []string
	out := &eventbridge.PutEventsOutput{}
	for _, en := range in.Entries {
		ids = append(ids, aws.ToString(en.Detail))
		if len(f.calls) == 0 && aws.ToString(en.Detail) == `{"n":3}` {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")})
			continue
		}
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("ok")})
	}
	f.calls = append(f.calls, ids)
	return out, nil
}

func TestPutEventsBatchesAndRetriesPartialFailures(t *testing.T) {
	var entries []ebtypes.PutEventsRequestEntry
	for i := range 12 {
		entries = append(entries, ebtypes.PutEventsRequestEntry{Detail: aws.String(`{"n":` + string(rune('0'+i%10)) + `}`)})
	}
	f := &fakePartial{}
	if err := PutEvents(context.Background(), f, entries); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 || len(f.calls[0]) != 10 || len(f.calls[1]) != 1 || f.calls[1][0] != `{"n":3}` || len(f.calls[2]) != 2 {
		t.Fatalf("calls %v: want a batch of 10, a retry of the failed entry, then the last 2", f.calls)
	}
}

type recordBus struct{ in []*eventbridge.PutEventsInput }

func (r *recordBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.in = append(r.in, in)
	return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
}

// PutEvents' TraceHeader takes an X-Ray header (Root=1-...;Parent=...;
// Sampled=...): AWS drops what it cannot parse. An event's traceparent
// extension is converted; an entry without one gets the caller's span.
func TestTraceHeaderIsXRay(t *testing.T) {
	e := ce.New()
	e.SetID("1")
	e.SetSource("s")
	e.SetType("t")
	e.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	entry := Entry("b", &e)
	if got := aws.ToString(entry.TraceHeader); got != "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1" {
		t.Errorf("TraceHeader %q: want the traceparent in X-Ray format", got)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	var r recordBus
	if err := PutEvents(trace.ContextWithSpanContext(context.Background(), sc), &r, []ebtypes.PutEventsRequestEntry{entry, {Source: aws.String("s")}}); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(r.in[0].Entries[0].TraceHeader); got != aws.ToString(entry.TraceHeader) {
		t.Errorf("TraceHeader %q: want the event's own", got)
	}
	if got := aws.ToString(r.in[0].Entries[1].TraceHeader); got != "Root=1-01020304-05060708090a0b0c0d0e0f10;Parent=0102030405060708;Sampled=1" {
		t.Errorf("TraceHeader %q: want the caller's span in X-Ray format", got)
	}
}
