package bus

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
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
