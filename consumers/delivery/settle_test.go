package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/route"
)

// msg is an SQS message carrying a structured CloudEvent whose data.do says
// what the test handler does with it.
func msg(id, do string) delivery.Message {
	return delivery.Message{Message: event.Message{MessageID: id, QueueARN: "arn:aws:sqs:us-east-1:1:q.fifo",
		Body: fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"s","type":"t.v1","datacontenttype":"application/json","data":{"do":%q}}`, id, do)},
		Receipt: "r-" + id, ReceiveCount: 2, GroupID: "g"}
}

type calls struct {
	mu  sync.Mutex
	ids []string
}

func (c *calls) handler() delivery.Handler {
	return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
		c.mu.Lock()
		c.ids = append(c.ids, e.ID())
		c.mu.Unlock()
		switch do := string(e.Data()); {
		case strings.Contains(do, "retry"):
			return errors.New("sink unavailable")
		case strings.Contains(do, "permanent"):
			return delivery.Permanentf("bad order")
		case strings.Contains(do, "duplicate"):
			return delivery.ErrSkip
		case strings.Contains(do, "breaker"):
			return delivery.Unavailable(errors.New("circuit breaker is open"))
		case strings.Contains(do, "slow"):
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
}

type want struct {
	outcome delivery.Outcome
	kind    string
	reason  string // prefix of the dead-letter reason
}

// The one settlement function's decisions for standard and FIFO batches:
// standard batches settle every message on its own; on FIFO the first
// message not acknowledged stops the batch and every later one is released
// unprocessed (Lambda's rule for FIFO partial batch responses).
func TestProcessOutcomes(t *testing.T) {
	undecodable := delivery.Message{Message: event.Message{MessageID: "u", Body: `{"specversion":"1.0","id":`}, Receipt: "r-u"}
	confirm := delivery.Message{Message: event.Message{MessageID: "c", Body: `{"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t","MessageId":"x","SubscribeURL":"https://sns/confirm"}`}}
	cases := []struct {
		name     string
		fifo     bool
		unrouted delivery.Unrouted
		batch    []delivery.Message
		want     []want
		handled  []string
	}{
		{"standard: every message settles on its own", false, "",
			[]delivery.Message{msg("1", "ok"), msg("2", "retry"), msg("3", "permanent"), undecodable, msg("5", "ok")},
			[]want{{delivery.Ack, "", ""}, {delivery.Retry, delivery.KindRetryable, ""}, {delivery.DeadLetter, delivery.KindPermanent, "permanent: bad order"},
				{delivery.DeadLetter, delivery.KindUndecodable, "undecodable: sqs: body: invalid JSON"}, {delivery.Ack, "", ""}},
			[]string{"1", "2", "3", "5"}},
		{"fifo: stop at the first failure, release the rest", true, "",
			[]delivery.Message{msg("1", "ok"), msg("2", "retry"), msg("3", "ok"), msg("4", "ok")},
			[]want{{delivery.Ack, "", ""}, {delivery.Retry, delivery.KindRetryable, ""}, {delivery.Release, delivery.KindHeldBack, ""}, {delivery.Release, delivery.KindHeldBack, ""}},
			[]string{"1", "2"}},
		{"fifo: a poison message stops the batch too", true, "",
			[]delivery.Message{msg("1", "permanent"), msg("2", "ok")},
			[]want{{delivery.DeadLetter, delivery.KindPermanent, "permanent: "}, {delivery.Release, delivery.KindHeldBack, ""}},
			[]string{"1"}},
		{"fifo: all good", true, "",
			[]delivery.Message{msg("1", "ok"), msg("2", "duplicate"), confirm},
			[]want{{delivery.Ack, "", ""}, {delivery.Ack, "", ""}, {delivery.Ack, "", ""}},
			[]string{"1", "2"}},
		{"timeout, unavailable sink", false, "",
			[]delivery.Message{msg("1", "slow"), msg("2", "breaker")},
			[]want{{delivery.Retry, delivery.KindTimeout, ""}, {delivery.Release, delivery.KindUnavailable, ""}},
			[]string{"1", "2"}},
		{"unrouted, dead-letter policy", false, delivery.UnroutedDeadLetter, []delivery.Message{{Message: event.Message{MessageID: "x", Body: `{"specversion":"1.0","id":"x","source":"s","type":"other.v1"}`}}},
			[]want{{delivery.DeadLetter, delivery.KindUnrouted, "unrouted: event x of type other.v1 matches no route"}}, nil},
		{"unrouted, ack policy", false, delivery.UnroutedAck, []delivery.Message{{Message: event.Message{MessageID: "x", Body: `{"specversion":"1.0","id":"x","source":"s","type":"other.v1"}`}}},
			[]want{{delivery.Ack, "", ""}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c calls
			p, err := delivery.NewProcessor(delivery.ProcessorOptions{HandlerTimeout: 50 * time.Millisecond, Unrouted: tc.unrouted,
				Backoff: delivery.Backoff{Base: time.Second, Max: 4 * time.Second},
				Routes:  []route.Route[delivery.Handler]{{Name: "orders", Pattern: `{"type":["t.v1"]}`, Handler: c.handler()}}})
			if err != nil {
				t.Fatal(err)
			}
			got := p.Process(context.Background(), tc.batch, tc.fifo)
			if len(got) != len(tc.batch) {
				t.Fatalf("%d settlements for %d messages", len(got), len(tc.batch))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Outcome != w.outcome || g.Kind != w.kind || !strings.HasPrefix(g.Reason, w.reason) {
					t.Errorf("message %d: %v kind %q reason %q (err %v); want %v kind %q reason %q…", i, g.Outcome, g.Kind, g.Reason, g.Err, w.outcome, w.kind, w.reason)
				}
				if g.Outcome == delivery.Retry && (g.Delay < time.Second || g.Delay > 2*time.Second) {
					t.Errorf("message %d: retry delay %v, want the backoff for receive count 2 (1s-2s)", i, g.Delay)
				}
				if g.Outcome != delivery.Ack && g.Err == nil {
					t.Errorf("message %d: %v without an error", i, g.Outcome)
				}
			}
			if fmt.Sprint(c.ids) != fmt.Sprint(tc.handled) && !(len(c.ids) == 0 && len(tc.handled) == 0) {
				t.Errorf("handled %v, want %v", c.ids, tc.handled)
			}
		})
	}
}

// A cancelled context (shutdown) releases a message whose handler failed
// because of it, instead of counting an attempt.
func TestProcessReleasesOnShutdown(t *testing.T) {
	var c calls
	p, err := delivery.NewProcessor(delivery.ProcessorOptions{Routes: []route.Route[delivery.Handler]{{Name: "all", Handler: c.handler()}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := p.One(ctx, msg("1", "slow"))
	if s.Outcome != delivery.Release || s.Kind != delivery.KindShutdown {
		t.Fatalf("%v %q: want release on shutdown", s.Outcome, s.Kind)
	}
}
