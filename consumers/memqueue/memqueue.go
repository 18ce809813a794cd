// Package memqueue is an in-process queue with SQS semantics: visibility
// timeouts, receive counts, redrive to a dead-letter queue after
// maxReceiveCount, long polling, and FIFO message groups (a group is held
// while one of its messages is in flight). It is the engine's source in the
// local stack and in fast tests; it never replaces the SQS adapter's tests.
package memqueue

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/event"
)

// Config describes a queue.
type Config struct {
	Name string
	// ARN defaults to arn:aws:sqs:local:000000000000:<Name>.
	ARN string
	// FIFO queues deliver each message group in order, one batch at a time.
	FIFO bool
	// VisibilityTimeout defaults to 30s.
	VisibilityTimeout time.Duration
	// WaitTime is the long-polling wait of Receive (default 1s).
	WaitTime time.Duration
	// MaxReceiveCount moves a message to DeadLetter after that many receives
	// (0: never).
	MaxReceiveCount int
	// DeadLetter is the redrive target, also used by Source.DeadLetter.
	DeadLetter *Queue
	// Delay is the queue's DelaySeconds: every message sent is invisible
	// for this long (a message's own delay, SendSystem's, overrides it).
	Delay time.Duration
}

type message struct {
	id, body      string
	attrs         map[string]string // message attributes
	system        map[string]string // system attributes set by the sender (AWSTraceHeader)
	group         string
	sentAt        time.Time
	visibleAt     time.Time
	receiveCount  int
	receipt       string
	firstReceived time.Time
	deleted       bool
}

// Queue is safe for concurrent use.
type Queue struct {
	cfg Config

	mu        sync.Mutex
	msgs      []*message // in send order; deleted ones are compacted away lazily
	deleted   int        // deleted messages still in msgs
	byReceipt map[string]*message
	changed   chan struct{}
	seq       int

	requests sync.Map // API name -> *atomic.Int64
}

// New returns an empty queue.
func New(cfg Config) *Queue {
	if cfg.ARN == "" {
		cfg.ARN = "arn:aws:sqs:local:000000000000:" + cfg.Name
	}
	if cfg.VisibilityTimeout <= 0 {
		cfg.VisibilityTimeout = 30 * time.Second
	}
	if cfg.WaitTime <= 0 {
		cfg.WaitTime = time.Second
	}
	return &Queue{cfg: cfg, changed: make(chan struct{}), byReceipt: map[string]*message{}}
}

// ARN returns the queue's ARN.
func (q *Queue) ARN() string { return q.cfg.ARN }

func (q *Queue) count(api string) {
	c, _ := q.requests.LoadOrStore(api, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
}

// Requests returns how many calls each API received (SQS API names).
func (q *Queue) Requests() map[string]int64 {
	out := map[string]int64{}
	q.requests.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// notify wakes long polls; q.mu must be held.
func (q *Queue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// Send enqueues a message, invisible for the queue's Delay, and returns its
// id. group is the FIFO message group (required on FIFO queues, ignored
// otherwise).
func (q *Queue) Send(body string, attrs map[string]string, group string) (string, error) {
	return q.send(body, attrs, nil, group, q.cfg.Delay)
}

// SendTraced enqueues a message with the AWSTraceHeader system attribute
// (an X-Ray header, as SQS takes it; "" for none), as EventBridge, SNS and
// SendMessage's MessageSystemAttributes carry a trace into SQS.
func (q *Queue) SendTraced(body string, attrs map[string]string, traceHeader, group string) (string, error) {
	var system map[string]string
	if traceHeader != "" {
		system = map[string]string{"AWSTraceHeader": traceHeader}
	}
	return q.send(body, attrs, system, group, q.cfg.Delay)
}

// SendSystem enqueues a message with system attributes (AWSTraceHeader)
// that becomes visible after delay (the queue's Delay does not apply), as
// SendMessage with DelaySeconds and MessageSystemAttributes does.
func (q *Queue) SendSystem(body string, attrs, system map[string]string, group string, delay time.Duration) (string, error) {
	return q.send(body, attrs, maps.Clone(system), group, delay)
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.cfg.Name }

// FIFO reports whether the queue is a FIFO queue.
func (q *Queue) FIFO() bool { return q.cfg.FIFO }

// Delay returns the queue's delay (DelaySeconds).
func (q *Queue) Delay() time.Duration { return q.cfg.Delay }

// Purge deletes every message, in flight or not (PurgeQueue), and returns
// how many it deleted.
func (q *Queue) Purge() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, m := range q.msgs {
		if !m.deleted {
			q.remove(m)
			n++
		}
	}
	q.compact()
	q.notify()
	return n
}

func (q *Queue) send(body string, attrs, system map[string]string, group string, delay time.Duration) (string, error) {
	q.count("SendMessage")
	if q.cfg.FIFO && group == "" {
		return "", fmt.Errorf("memqueue %s: a FIFO queue needs a message group id", q.cfg.Name)
	}
	if !q.cfg.FIFO {
		group = ""
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	now := time.Now()
	m := &message{id: fmt.Sprintf("%s-%08d", q.cfg.Name, q.seq), body: body, attrs: maps.Clone(attrs), system: system, group: group,
		sentAt: now, visibleAt: now.Add(delay)}
	q.msgs = append(q.msgs, m)
	q.notify()
	return m.id, nil
}

// Receive implements delivery.Source: it waits up to the queue's WaitTime for
// visible messages and returns at most limit of them.
func (q *Queue) Receive(ctx context.Context, limit int) ([]delivery.Message, error) {
	return q.ReceiveWith(ctx, limit, q.cfg.WaitTime, q.cfg.VisibilityTimeout)
}

// ReceiveWith is Receive with the call's own long-poll wait (0: return at
// once) and visibility timeout, as ReceiveMessage's WaitTimeSeconds and
// VisibilityTimeout override the queue's.
func (q *Queue) ReceiveWith(ctx context.Context, limit int, wait, visibility time.Duration) ([]delivery.Message, error) {
	q.count("ReceiveMessage")
	deadline := time.Now().Add(wait)
	for {
		q.mu.Lock()
		out, next := q.take(limit, visibility)
		changed := q.changed
		q.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil, nil
		}
		if !next.IsZero() && time.Until(next) < wait {
			wait = max(time.Until(next), time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// take receives up to limit visible messages; it returns when the next
// invisible message becomes visible. q.mu must be held.
func (q *Queue) take(limit int, visibility time.Duration) ([]delivery.Message, time.Time) {
	now := time.Now()
	var out []delivery.Message
	var next time.Time
	busy := map[string]bool{} // FIFO groups with a message in flight
	if q.cfg.FIFO {
		for _, m := range q.msgs {
			if !m.deleted && m.visibleAt.After(now) && m.receiveCount > 0 {
				busy[m.group] = true
			}
		}
	}
	for _, m := range q.msgs {
		if m.deleted {
			continue
		}
		if len(out) >= limit {
			break
		}
		if m.visibleAt.After(now) || busy[m.group] {
			if m.visibleAt.After(now) && (next.IsZero() || m.visibleAt.Before(next)) {
				next = m.visibleAt
			}
			if q.cfg.FIFO && !m.visibleAt.After(now) {
				busy[m.group] = true // keep later messages of the group behind it
			}
			continue
		}
		if q.cfg.MaxReceiveCount > 0 && m.receiveCount >= q.cfg.MaxReceiveCount && q.cfg.DeadLetter != nil {
			q.remove(m)
			q.cfg.DeadLetter.redrive(m)
			continue
		}
		delete(q.byReceipt, m.receipt)
		m.receiveCount++
		if m.firstReceived.IsZero() {
			m.firstReceived = now
		}
		m.receipt = m.id + "#" + strconv.Itoa(m.receiveCount)
		q.byReceipt[m.receipt] = m
		m.visibleAt = now.Add(visibility)
		out = append(out, q.deliver(m))
	}
	q.compact()
	return out, next
}

// remove marks m deleted; q.mu must be held.
func (q *Queue) remove(m *message) {
	m.deleted = true
	q.deleted++
	delete(q.byReceipt, m.receipt)
}

// compact drops deleted messages once they are half the slice; q.mu must be held.
func (q *Queue) compact() {
	if q.deleted < 64 || q.deleted < len(q.msgs)/2 {
		return
	}
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if !m.deleted {
			kept = append(kept, m)
		}
	}
	clear(q.msgs[len(kept):])
	q.msgs = kept
	q.deleted = 0
}

func (q *Queue) deliver(m *message) delivery.Message {
	attrs := map[string]string{
		"SentTimestamp":           strconv.FormatInt(m.sentAt.UnixMilli(), 10),
		"ApproximateReceiveCount": strconv.Itoa(m.receiveCount),
		"MessageGroupId":          m.group,
	}
	for k, v := range m.system {
		attrs[k] = v
	}
	return delivery.Message{
		Message: event.Message{
			Body:              m.body,
			MessageID:         m.id,
			QueueARN:          q.cfg.ARN,
			Attributes:        attrs,
			MessageAttributes: maps.Clone(m.attrs),
		},
		Receipt:      m.receipt,
		ReceiveCount: m.receiveCount,
		GroupID:      m.group,
	}
}

// redrive appends a message moved by the redrive policy.
func (q *Queue) redrive(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := *m
	c.receiveCount, c.receipt, c.visibleAt, c.deleted = 0, "", time.Now(), false
	q.msgs = append(q.msgs, &c)
	q.notify()
}

// Delete implements delivery.Source.
func (q *Queue) Delete(_ context.Context, receipts []string) error {
	q.count("DeleteMessageBatch")
	q.mu.Lock()
	defer q.mu.Unlock()
	failed := map[string]string{}
	for _, r := range receipts {
		m, ok := q.byReceipt[r]
		if !ok {
			failed[r] = "ReceiptHandleIsInvalid"
			continue
		}
		q.remove(m)
	}
	q.compact()
	q.notify()
	if len(failed) > 0 {
		return &delivery.BatchError{Failed: failed}
	}
	return nil
}

// ChangeVisibility implements delivery.Source.
func (q *Queue) ChangeVisibility(_ context.Context, changes []delivery.VisibilityChange) error {
	q.count("ChangeMessageVisibilityBatch")
	q.mu.Lock()
	defer q.mu.Unlock()
	failed := map[string]string{}
	now := time.Now()
	for _, c := range changes {
		m, ok := q.byReceipt[c.Receipt]
		if !ok {
			failed[c.Receipt] = "ReceiptHandleIsInvalid"
			continue
		}
		m.visibleAt = now.Add(c.Timeout)
	}
	q.notify()
	if len(failed) > 0 {
		return &delivery.BatchError{Failed: failed}
	}
	return nil
}

// DeadLetter implements delivery.Source: it sends a copy of m to the
// configured dead-letter queue with the failure reason as attributes.
func (q *Queue) DeadLetter(_ context.Context, m delivery.Message, reason string) error {
	if q.cfg.DeadLetter == nil {
		return fmt.Errorf("memqueue %s: no dead-letter queue configured", q.cfg.Name)
	}
	attrs := maps.Clone(m.MessageAttributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs[delivery.AttrFailureReason] = reason
	attrs[delivery.AttrSourceQueue] = q.cfg.ARN
	attrs[delivery.AttrReceiveCount] = strconv.Itoa(m.ReceiveCount)
	group := m.GroupID
	if q.cfg.DeadLetter.cfg.FIFO && group == "" {
		group = "dead-letter"
	}
	_, err := q.cfg.DeadLetter.SendTraced(m.Body, attrs, m.Attributes["AWSTraceHeader"], group)
	return err
}

// VisibilityTimeout implements delivery.Source.
func (q *Queue) VisibilityTimeout() time.Duration { return q.cfg.VisibilityTimeout }

// Stats are a queue's depths, as SQS's approximate attributes report them.
type Stats struct {
	Visible  int // ApproximateNumberOfMessages
	InFlight int // ApproximateNumberOfMessagesNotVisible
	Delayed  int // never received and not yet visible
}

// Stats returns the queue's current depths.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	var s Stats
	now := time.Now()
	for _, m := range q.msgs {
		if m.deleted {
			continue
		}
		switch {
		case !m.visibleAt.After(now):
			s.Visible++
		case m.receiveCount == 0:
			s.Delayed++
		default:
			s.InFlight++
		}
	}
	return s
}

// Peek returns copies of the queued messages (bodies and attributes) in order
// without receiving them.
func (q *Queue) Peek() []delivery.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]delivery.Message, 0, len(q.msgs))
	for _, m := range q.msgs {
		if !m.deleted {
			out = append(out, q.deliver(m))
		}
	}
	return out
}

// Saved is a message as the local stack keeps it across restarts.
type Saved struct {
	ID           string            `json:"id"`
	Body         string            `json:"body"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	System       map[string]string `json:"system,omitempty"`
	Group        string            `json:"group,omitempty"`
	ReceiveCount int               `json:"receiveCount,omitempty"`
	SentAt       time.Time         `json:"sentAt"`
	// DelayedUntil is when a message still in its delay becomes visible.
	DelayedUntil time.Time `json:"delayedUntil,omitzero"`
}

// Save returns every message not deleted, in order (in-flight ones
// included: they come back visible after Restore).
func (q *Queue) Save() []Saved {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Saved, 0, len(q.msgs))
	now := time.Now()
	for _, m := range q.msgs {
		if !m.deleted {
			s := Saved{ID: m.id, Body: m.body, Attributes: maps.Clone(m.attrs), System: maps.Clone(m.system), Group: m.group,
				ReceiveCount: m.receiveCount, SentAt: m.sentAt}
			if m.receiveCount == 0 && m.visibleAt.After(now) {
				s.DelayedUntil = m.visibleAt
			}
			out = append(out, s)
		}
	}
	return out
}

// Restore appends saved messages, visible at once (a delayed one when its
// delay ends), keeping their ids, receive counts and send times.
func (q *Queue) Restore(saved []Saved) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for _, s := range saved {
		visible := now
		if s.DelayedUntil.After(now) {
			visible = s.DelayedUntil
		}
		q.msgs = append(q.msgs, &message{id: s.ID, body: s.Body, attrs: maps.Clone(s.Attributes), system: maps.Clone(s.System), group: s.Group,
			receiveCount: s.ReceiveCount, sentAt: s.SentAt, visibleAt: visible})
	}
	q.notify()
}

// MoveTo moves every visible message to another queue (a DLQ redrive),
// dropping the attributes drop names, and returns how many moved.
func (q *Queue) MoveTo(to *Queue, drop func(attr string) bool) (int, error) {
	q.mu.Lock()
	now := time.Now()
	var moving []*message
	for _, m := range q.msgs {
		if !m.deleted && !m.visibleAt.After(now) {
			moving = append(moving, m)
		}
	}
	q.mu.Unlock()
	n := 0
	for _, m := range moving {
		attrs := maps.Clone(m.attrs)
		maps.DeleteFunc(attrs, func(k, _ string) bool { return drop != nil && drop(k) })
		group := m.group
		if to.cfg.FIFO && group == "" {
			group = "redrive"
		}
		if _, err := to.Send(m.body, attrs, group); err != nil {
			return n, err
		}
		q.mu.Lock()
		q.remove(m)
		q.mu.Unlock()
		n++
	}
	return n, nil
}
