package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/jsonscan"
	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
	"github.com/eventplane/eventplane/consumers/topology"
)

const (
	region  = "local"
	account = "000000000000"
)

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	var h [36]byte // 8-4-4-4-12 hex digits, one allocation for the string
	hex.Encode(h[0:8], b[0:4])
	hex.Encode(h[9:13], b[4:6])
	hex.Encode(h[14:18], b[6:8])
	hex.Encode(h[19:23], b[8:10])
	hex.Encode(h[24:36], b[10:16])
	h[8], h[13], h[18], h[23] = '-', '-', '-', '-'
	return string(h[:])
}

// Function is a Lambda target run in process: it gets the EventBridge event
// as the function would.
type Function func(ctx context.Context, event []byte) error

// Counter counts what passed through a rule, topic subscription or queue.
type Counter struct {
	Matched, Delivered, Failed atomic.Int64
}

type target struct {
	spec  topology.Target
	queue *memqueue.Queue
	topic *topic
	fn    Function
	dlq   *memqueue.Queue
	// onFailure is a function target's on-failure destination (Lambda's,
	// not the rule's).
	onFailure *memqueue.Queue
	name      string // the function's name
	// input is what the target gets instead of the whole event (its
	// inputPath or inputTransformer; nil: the event).
	input *input
}

// Lambda's asynchronous invocation policy, as Terraform configures every
// function (terraform/modules/lambda: aws_lambda_function_event_invoke_config):
// EventBridge hands the event to Lambda's asynchronous queue, which accepts
// it (so the rule's own retry policy and dead-letter queue only cover a
// failed hand-over); Lambda then runs the function up to 1 + 2 times within
// an hour, about one and two minutes apart (RetryBase and twice that
// locally), and sends an invocation record to the on-failure destination.
const (
	lambdaRetries     = 2
	lambdaMaxEventAge = time.Hour
)

type rule struct {
	name    string
	targets []target
	count   *Counter
}

// Bus is the in-process EventBridge: buses and rules from the topology,
// patterns matched with the event-core matcher, delivery to queue, topic
// and function targets with the rule's retry policy and dead-letter queue.
// It implements the PutEvents the ingest API and the handlers call.
type Bus struct {
	log   *slog.Logger
	buses map[string]*busRules // physical bus name
	wg    sync.WaitGroup
	// RetryBase is the first retry delay of a failing function target
	// (doubling up to 30s).
	RetryBase time.Duration
}

type busRules struct {
	set   *route.Set // the rules' patterns, then the policies'
	rules []*rule
	count atomic.Int64
	// policies holds, for a topic some rule sends whole events to, the
	// index in set of each subscription's MessageBody filter policy (-1:
	// none, or not in set): the rules' walk of the event answers them too,
	// instead of a second walk of the same document in publish.
	policies map[*topic][]int
}

// maxShared is how many patterns a bus's set may hold for one walk to
// answer the filter policies too (matches are kept in a 64-bit mask).
const maxShared = 64

// sharePolicies adds to the bus's set the MessageBody filter policies of
// the topics its rules send whole events to (route.Set answers each of its
// patterns as that pattern alone: FuzzSetAgreesWithEveryPattern).
func (br *busRules) sharePolicies() error {
	for _, r := range br.rules {
		for _, t := range r.targets {
			if t.topic == nil || t.input != nil || br.policies[t.topic] != nil {
				continue
			}
			idx := make([]int, len(t.topic.subs))
			for i, s := range t.topic.subs {
				idx[i] = -1
				if s.set == nil || !s.body || br.set.Len() >= maxShared {
					continue
				}
				n, err := br.set.Add(s.policy)
				if err != nil {
					return fmt.Errorf("topic %s subscription %d: filter policy: %w", t.topic.arn, i, err)
				}
				idx[i] = n
			}
			if br.policies == nil {
				br.policies = map[*topic][]int{}
			}
			br.policies[t.topic] = idx
		}
	}
	return nil
}

// shared is what a bus's walk answered for a topic's filter policies.
type shared struct {
	index []int  // per subscription, its pattern's index in the bus's set, or -1
	mask  uint64 // the set's patterns that matched
}

// PutEvents implements the EventBridge operation: each entry becomes an
// EventBridge event, matched against its bus's rules and delivered to their
// targets (queues and topics at once, functions asynchronously with
// retries, as EventBridge does).
func (b *Bus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		id := newID()
		name := aws.ToString(e.EventBusName)
		if name == "" {
			name = "default"
		}
		br, ok := b.buses[name]
		if !ok {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("ResourceNotFoundException"),
				ErrorMessage: aws.String(fmt.Sprintf("event bus %s does not exist", name))})
			continue
		}
		doc, err := envelope(id, e)
		if err != nil {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{ErrorCode: aws.String("MalformedDetail"), ErrorMessage: aws.String(err.Error())})
			continue
		}
		br.count.Add(1)
		// The trace header: the entry's TraceHeader, else the caller's span
		// (as X-Ray instrumentation sends X-Amzn-Trace-Id with the request).
		th := aws.ToString(e.TraceHeader)
		if _, ok := event.XRayToTraceparent(th); !ok {
			th = event.XRayHeader(ctx) // AWS drops a header it cannot parse
		}
		b.deliver(ctx, br, doc, th, time.Now())
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(id)})
	}
	return out, nil
}

// envelope builds the EventBridge event of a PutEvents entry (appended by
// hand: it is on every event's path).
func envelope(id string, e ebtypes.PutEventsRequestEntry) ([]byte, error) {
	detail := aws.ToString(e.Detail)
	if detail == "" {
		detail = "{}"
	}
	if i := jsonscan.SkipSpace(detail, 0); i == len(detail) || detail[i] != '{' || !jsonscan.Valid(detail) {
		return nil, fmt.Errorf("detail is not a JSON object")
	}
	t := time.Now().UTC()
	if e.Time != nil {
		t = e.Time.UTC()
	}
	b := make([]byte, 0, 256+len(detail))
	b = append(b, `{"version":"0","id":`...)
	b = appendString(b, id)
	b = append(b, `,"detail-type":`...)
	b = appendString(b, aws.ToString(e.DetailType))
	b = append(b, `,"source":`...)
	b = appendString(b, aws.ToString(e.Source))
	b = append(b, `,"account":"`+account+`","time":"`...)
	b = t.AppendFormat(b, time.RFC3339)
	b = append(b, `","region":"`+region+`","resources":[`...)
	for i, r := range e.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r)
	}
	b = append(b, `],"detail":`...)
	b = append(b, detail...)
	return append(b, '}'), nil
}

// deliver passes the trace header on to the targets as EventBridge does:
// SQS gets it as the AWSTraceHeader system attribute, SNS passes it on to its
// subscriptions, a function runs in it, and the dead-letter queue gets it too.
//
// Each target gets its input (inputPath, inputTransformer) computed from the
// event ingested at ingested; one that cannot be computed fails that target
// only, to its dead-letter queue with the reason, which gets the original
// event as EventBridge's does.
func (b *Bus) deliver(ctx context.Context, br *busRules, doc []byte, traceHeader string, ingested time.Time) {
	whole := string(doc) // the event as a message body for the targets that get all of it, and what the patterns see
	var buf [maxShared]int
	matched, err := br.set.MatchString(whole, buf[:0])
	if err != nil {
		b.log.Error("bus: unmatchable event", "error", err)
		return
	}
	var mask uint64
	for _, i := range matched {
		if i < maxShared {
			mask |= 1 << i
		}
	}
	message := func(t target, body []byte) string {
		if t.input != nil {
			return string(body)
		}
		return whole
	}
	for _, i := range matched {
		if i >= len(br.rules) {
			break // a filter policy's (they follow the rules)
		}
		r := br.rules[i]
		r.count.Matched.Add(1)
		for _, t := range r.targets {
			body, err := t.input.apply(doc, ingested)
			if err != nil {
				r.count.Failed.Add(1)
				b.log.Error("bus: target input", "rule", r.name, "error", err)
				b.deadLetter(t, r.name, doc, traceHeader, err)
				continue
			}
			switch {
			case t.queue != nil:
				// A FIFO target queue gets one message group.
				if _, err := t.queue.SendTraced(message(t, body), nil, traceHeader, "eventbridge"); err != nil {
					r.count.Failed.Add(1)
					b.deadLetter(t, r.name, doc, traceHeader, err)
					continue
				}
				r.count.Delivered.Add(1)
			case t.topic != nil:
				var sh *shared
				if t.input == nil && br.policies[t.topic] != nil {
					sh = &shared{index: br.policies[t.topic], mask: mask}
				}
				t.topic.publish(message(t, body), nil, traceHeader, sh)
				r.count.Delivered.Add(1)
			case t.fn != nil:
				r, t := r, t // the goroutine's own: the loop's variables stay on the stack
				b.wg.Add(1)
				go func() {
					defer b.wg.Done()
					b.invoke(withTrace(context.WithoutCancel(ctx), traceHeader), r, t, body)
				}()
			}
		}
	}
}

// invoke runs a function target as Lambda runs an asynchronous invocation:
// up to 1 + lambdaRetries attempts within lambdaMaxEventAge, then an
// invocation record to the function's on-failure destination.
func (b *Bus) invoke(ctx context.Context, r *rule, t target, doc []byte) {
	start := time.Now()
	delay := b.RetryBase
	if delay <= 0 {
		delay = time.Second
	}
	var err error
	attempts := 0
	for attempts < 1+lambdaRetries {
		attempts++
		if err = t.fn(ctx, doc); err == nil {
			r.count.Delivered.Add(1)
			return
		}
		b.log.Warn("bus: function failed", "rule", r.name, "lambda", t.name, "attempt", attempts, "error", err)
		if attempts == 1+lambdaRetries || time.Since(start)+delay > lambdaMaxEventAge {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
	r.count.Failed.Add(1)
	if t.onFailure == nil {
		b.log.Error("bus: failed invocation discarded: the function has no on-failure destination", "lambda", t.name, "error", err)
		return
	}
	_, _ = t.onFailure.SendTraced(string(invocationRecord(t.name, doc, attempts, err)), nil, event.XRayHeader(ctx), "lambda")
}

// invocationRecord is what Lambda sends to an on-failure destination after
// the retries of an asynchronous invocation are exhausted.
func invocationRecord(function string, event []byte, attempts int, cause error) []byte {
	rec := map[string]any{
		"version": "1.0", "timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{"requestId": newID(), "functionArn": "arn:aws:lambda:" + region + ":" + account + ":function:" + function + ":$LATEST",
			"condition": "RetriesExhausted", "approximateInvokeCount": attempts},
		"requestPayload":  json.RawMessage(event),
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]string{"errorMessage": delivery.Truncate(cause.Error(), delivery.MaxReasonBytes), "errorType": "errorString"},
	}
	b, _ := json.Marshal(rec)
	return b
}

// withTrace is ctx with the remote span of an X-Ray header (as Lambda gives
// a function the trace of its invocation).
func withTrace(ctx context.Context, traceHeader string) context.Context {
	return xray.Propagator{}.Extract(ctx, propagation.MapCarrier{"X-Amzn-Trace-Id": traceHeader})
}

func (b *Bus) deadLetter(t target, rule string, doc []byte, traceHeader string, cause error) {
	if t.dlq == nil {
		b.log.Error("bus: undeliverable event dropped: the target has no deadLetterQueue", "rule", rule, "error", cause)
		return
	}
	_, _ = t.dlq.SendTraced(string(doc), map[string]string{"ERROR_CODE": "TargetFailed", "ERROR_MESSAGE": delivery.Truncate(cause.Error(), delivery.MaxReasonBytes),
		"RULE_ARN": "arn:aws:events:" + region + ":" + account + ":rule/" + rule}, traceHeader, "dead-letter")
}

// Wait waits for function deliveries in progress.
func (b *Bus) Wait() { b.wg.Wait() }

// topic is an in-process SNS topic.
type topic struct {
	arn   string
	subs  []subscription
	count *Counter
}

type subscription struct {
	queue  *memqueue.Queue
	raw    bool
	body   bool // filter policy scope MessageBody
	set    *route.Set
	policy []byte // the filter policy set holds
	count  *Counter
}

// publish delivers a message to the subscriptions; traceHeader (X-Ray) goes
// on as each queue message's AWSTraceHeader, as SNS passes the trace of an
// active-traced publish on to SQS.
//
// sh, when not nil, holds what the bus's walk of message answered for the
// subscriptions' MessageBody filter policies.
func (t *topic) publish(message string, attrs map[string]snstypes.MessageAttributeValue, traceHeader string, sh *shared) string {
	id := newID()
	t.count.Matched.Add(1)
	var attrsDoc []byte // what MessageAttributes-scoped filter policies see, made once
	for i, s := range t.subs {
		if s.set != nil {
			var buf [4]int
			switch {
			case s.body && sh != nil && sh.index[i] >= 0:
				if sh.mask&(1<<sh.index[i]) == 0 {
					continue
				}
			case s.body:
				if m, err := s.set.MatchString(message, buf[:0]); err != nil || len(m) == 0 {
					continue
				}
			default:
				if attrsDoc == nil {
					attrsDoc = attributeDoc(attrs)
				}
				if m, err := s.set.MatchJSON(attrsDoc, buf[:0]); err != nil || len(m) == 0 {
					continue
				}
			}
		}
		s.count.Matched.Add(1)
		body := message
		var qattrs map[string]string // the queue copies them
		if s.raw && len(attrs) > 0 {
			qattrs = make(map[string]string, len(attrs))
			for k, v := range attrs {
				qattrs[k] = aws.ToString(v.StringValue)
			}
		} else if !s.raw {
			env := map[string]any{"Type": "Notification", "MessageId": id, "TopicArn": t.arn, "Message": message,
				"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "1"}
			if len(attrs) > 0 {
				ma := map[string]map[string]string{}
				for k, v := range attrs {
					ma[k] = map[string]string{"Type": aws.ToString(v.DataType), "Value": aws.ToString(v.StringValue)}
				}
				env["MessageAttributes"] = ma
			}
			b, _ := json.Marshal(env)
			body = string(b)
		}
		if _, err := s.queue.SendTraced(body, qattrs, traceHeader, "sns"); err != nil {
			s.count.Failed.Add(1)
			continue
		}
		s.count.Delivered.Add(1)
	}
	return id
}

// attributeDoc is the JSON object a MessageAttributes-scoped filter policy
// sees: String values as strings, Number values as numbers.
func attributeDoc(attrs map[string]snstypes.MessageAttributeValue) []byte {
	m := map[string]any{}
	for k, v := range attrs {
		s := aws.ToString(v.StringValue)
		if aws.ToString(v.DataType) == "Number" {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				m[k] = f
				continue
			}
		}
		m[k] = s
	}
	b, _ := json.Marshal(m)
	return b
}

// Topics is the in-process SNS: it implements the Publish the handlers call.
type Topics struct {
	byARN map[string]*topic
}

// Publish implements the SNS operation.
func (ts *Topics) Publish(ctx context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	t, ok := ts.byARN[aws.ToString(in.TopicArn)]
	if !ok {
		return nil, &snstypes.NotFoundException{Message: aws.String(fmt.Sprintf("topic %s does not exist", aws.ToString(in.TopicArn)))}
	}
	return &sns.PublishOutput{MessageId: aws.String(t.publish(aws.ToString(in.Message), in.MessageAttributes, event.XRayHeader(ctx), nil))}, nil
}
