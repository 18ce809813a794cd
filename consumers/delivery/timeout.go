package delivery

import (
	"context"
	"sync"
	"time"
)

// withTimeout is context.WithTimeout(parent, d) that makes the standard
// library's context (its timer, and its place among the parent's children)
// only when something needs it: Done, an Err or Value asked once the
// deadline has passed or after cancel. A handler that never waits on its
// context (the local table's PutItem) then costs one allocation instead of
// a timer and two trips through the parent's lock, which every worker
// shares. Deadline, Done, Err, Value and context.Cause answer as the
// standard context would (TestWithTimeoutAnswersAsTheStandardContext).
func withTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c := &timeoutCtx{parent: parent, deadline: time.Now().Add(d)}
	return c, c.cancel
}

type timeoutCtx struct {
	parent   context.Context
	deadline time.Time

	mu         sync.Mutex
	real       context.Context // context.WithDeadline(parent, deadline), once made
	cancelReal context.CancelFunc
	canceled   bool // cancel ran before real was made
}

// made returns the standard context, making it when it is needed: always
// when must is set, else only when the deadline has passed or cancel ran
// (then the standard context's answers differ from the parent's). The
// caller holds c.mu.
func (c *timeoutCtx) made(must bool) context.Context {
	if c.real != nil {
		return c.real
	}
	switch {
	case c.canceled:
		// Canceled first: Canceled for good, whatever the parent does later.
		c.real, c.cancelReal = context.WithCancel(context.WithoutCancel(c.parent))
		c.cancelReal()
	case must || !time.Now().Before(c.deadline):
		c.real, c.cancelReal = context.WithDeadline(c.parent, c.deadline)
	}
	return c.real
}

func (c *timeoutCtx) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil && (!time.Now().Before(c.deadline) || c.parent.Err() != nil) {
		c.made(true) // expired or the parent ended first: that error stays
	}
	if c.real != nil {
		c.cancelReal()
		return
	}
	c.canceled = true
}

// Deadline is the earlier of the parent's and this context's, as
// context.WithDeadline reports it.
func (c *timeoutCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *timeoutCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.made(true).Done()
}

func (c *timeoutCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real == nil && c.parent.Err() != nil {
		c.made(true) // the standard context ends with its parent
	}
	if r := c.made(false); r != nil {
		return r.Err()
	}
	return nil
}

// Value answers from the parent while neither the deadline nor cancel has
// come: the standard context adds no value of its own but the cancelation
// record context.Cause reads, whose cause is nil until then (a parent's
// cause, once the parent ends, is the one the parent's record holds).
func (c *timeoutCtx) Value(key any) any {
	c.mu.Lock()
	r := c.made(false)
	c.mu.Unlock()
	if r != nil {
		return r.Value(key)
	}
	return c.parent.Value(key)
}

func (c *timeoutCtx) String() string {
	return "delivery.withTimeout(" + c.deadline.String() + ")"
}
