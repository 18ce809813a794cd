package bus

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

// scripted answers each PutEvents entry with the error code fail(detail,
// call) gives ("" accepts it), counting requests as EventBridge would see
// them; like the SDK it refuses to send once ctx is done.
type scripted struct {
	fail  func(detail string, call int) string
	calls [][]string
	onPut func()
}

func (s *scripted) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	call := len(s.calls)
	var details []string
	out := &eventbridge.PutEventsOutput{}
	for _, en := range in.Entries {
		d := aws.ToString(en.Detail)
		details = append(details, d)
		if code := s.fail(d, call); code != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("scripted " + code)})
			continue
		}
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id-" + d)})
	}
	s.calls = append(s.calls, details)
	if s.onPut != nil {
		s.onPut()
	}
	return out, nil
}

func details(ds ...string) []ebtypes.PutEventsRequestEntry {
	var out []ebtypes.PutEventsRequestEntry
	for _, d := range ds {
		out = append(out, ebtypes.PutEventsRequestEntry{Detail: aws.String(d)})
	}
	return out
}

// The PutEventsResultEntry reference lists the retryable entry errors
// (InternalFailure, ThrottlingException) and the non-retryable ones
// (MalformedDetail, InvalidArgument, AccessDeniedException, ...): resending
// a malformed entry only fails again, so it is reported at once, while the
// throttled entry of the same batch is resent.
func TestPutEventsDoesNotResendANonRetryableEntry(t *testing.T) {
	s := &scripted{fail: func(d string, call int) string {
		switch {
		case d == `{"bad":1}`:
			return "MalformedDetail"
		case d == `{"slow":1}` && call == 0:
			return "ThrottlingException"
		}
		return ""
	}}
	err := PutEvents(context.Background(), s, details(`{"ok":1}`, `{"bad":1}`, `{"slow":1}`))
	if err == nil || !strings.Contains(err.Error(), "MalformedDetail") {
		t.Fatalf("err = %v, want the MalformedDetail failure reported", err)
	}
	for i, c := range s.calls[1:] {
		for _, d := range c {
			if d == `{"bad":1}` {
				t.Fatalf("request %d resent the MalformedDetail entry (requests %v)", i+2, s.calls)
			}
		}
	}
	if len(s.calls) != 2 || len(s.calls[1]) != 1 || s.calls[1][0] != `{"slow":1}` {
		t.Fatalf("requests %v: want the batch, then only the throttled entry", s.calls)
	}
}

// A batch whose every failure is non-retryable costs exactly one request.
func TestPutEventsSendsAnInvalidBatchOnce(t *testing.T) {
	s := &scripted{fail: func(string, int) string { return "InvalidArgument" }}
	err := PutEvents(context.Background(), s, details(`{"a":1}`, `{"b":1}`))
	if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), "2 of 2") {
		t.Fatalf("err = %v, want both InvalidArgument failures reported", err)
	}
	if len(s.calls) != 1 {
		t.Fatalf("%d requests, want 1: a validation failure is never retried", len(s.calls))
	}
}

// A caller that gives up (a Lambda near its deadline, a consumer shutting
// down) gets control back at once, not after the backoff.
func TestPutEventsReturnsPromptlyWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	s := &scripted{fail: func(string, int) string { return "ThrottlingException" },
		onPut: func() { cancelledAt = time.Now(); cancel() }}
	err := PutEvents(ctx, s, details(`{"a":1}`))
	waited := time.Since(cancelledAt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap context.Canceled", err)
	}
	if waited > 50*time.Millisecond {
		t.Fatalf("returned %v after the context was cancelled, want at once", waited)
	}
	if len(s.calls) != 1 {
		t.Fatalf("%d requests after cancellation, want 1", len(s.calls))
	}
}

// Throttling that persists ends in an error naming it after a bounded
// number of requests.
func TestPutEventsGivesUpOnPersistentThrottling(t *testing.T) {
	s := &scripted{fail: func(string, int) string { return "ThrottlingException" }}
	err := PutEvents(context.Background(), s, details(`{"a":1}`))
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("err = %v, want the throttling reported", err)
	}
	if len(s.calls) != 3 {
		t.Fatalf("%d requests, want 3 attempts", len(s.calls))
	}
}

// Against moto's EventBridge: an entry without a Source comes back as an
// InvalidArgument failure in a 200 response, and is not sent again.
func TestPutEventsDoesNotResendAnInvalidEntryToMoto(t *testing.T) {
	var requests atomic.Int32
	cfg := motoserver.Shared(t).Config()
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("countRequests",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				requests.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
	eb := eventbridge.NewFromConfig(cfg)
	entries := []ebtypes.PutEventsRequestEntry{
		{DetailType: aws.String("t"), Detail: aws.String(`{"no":"source"}`)},
		{Source: aws.String("s"), DetailType: aws.String("t"), Detail: aws.String(`{"ok":1}`)},
	}
	err := PutEvents(context.Background(), eb, entries)
	var fe *FailedEntries
	if !errors.As(err, &fe) || fe.Code != "InvalidArgument" || fe.Retryable || fe.Failed != 1 || fe.Of != 2 {
		t.Fatalf("err = %#v, want a non-retryable InvalidArgument failure of 1 of 2", err)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("%d requests, want 1: an invalid entry is not resent", n)
	}
}

// A rejection in one batch of 10 does not keep the next batches off the bus,
// and the error accounts for every entry not accepted by its index, so that
// a caller (the ingest API) can say which events to resend.
func TestPutEventsAccountsForEachEntryAcrossBatches(t *testing.T) {
	s := &scripted{fail: func(d string, call int) string {
		switch d {
		case `{"n":3}`:
			return "MalformedDetail"
		case `{"n":11}`:
			return "ThrottlingException"
		}
		return ""
	}}
	var ds []string
	for i := range 12 {
		ds = append(ds, `{"n":`+strconv.Itoa(i)+`}`)
	}
	err := PutEvents(context.Background(), s, details(ds...))
	var fe *FailedEntries
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *FailedEntries", err)
	}
	if fe.Failed != 2 || fe.Of != 12 || fe.Retryable || fe.Code != "MalformedDetail" || len(fe.Entries) != 2 ||
		fe.Entries[0] != (Failure{Index: 3, Code: "MalformedDetail", Message: "scripted MalformedDetail"}) ||
		fe.Entries[1] != (Failure{Index: 11, Code: "ThrottlingException", Message: "scripted ThrottlingException", Retryable: true}) {
		t.Fatalf("%+v: want entries 3 (MalformedDetail) and 11 (ThrottlingException, retryable) of 12", fe)
	}
	// 10, then the 2 of the second batch, then entry 11 twice more.
	if len(s.calls) != 4 || len(s.calls[1]) != 2 {
		t.Fatalf("requests %v", s.calls)
	}
}

// A request error ends the sends: the entries of the batches sent before it
// are on the bus, the rest are Unsent, and the error wraps the request's.
func TestPutEventsRequestErrorLeavesTheRestUnsent(t *testing.T) {
	down := errors.New("connection refused")
	calls := 0
	api := apiFunc(func(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
		if calls++; calls > 1 {
			return nil, down
		}
		return &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}, nil
	})
	err := PutEvents(context.Background(), api, make([]ebtypes.PutEventsRequestEntry, 25))
	var fe *FailedEntries
	if !errors.As(err, &fe) || !errors.Is(err, down) || fe.Failed != 15 || len(fe.Unsent) != 15 || fe.Unsent[0] != 10 || fe.Unsent[14] != 24 || !fe.Retryable {
		t.Fatalf("err = %v (%+v), want entries 10..24 unsent, wrapping the request error", err, fe)
	}
}

type apiFunc func(*eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error)

func (f apiFunc) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return f(in)
}
