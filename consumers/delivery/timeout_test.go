package delivery

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

type ctxKey struct{}

// A handler's context answers as context.WithTimeout's would, whatever it
// is asked first: each scenario runs on the standard context and on
// withTimeout, recording Deadline, Err, context.Cause, Done, Value and what a
// child context and context.AfterFunc see.
func TestWithTimeoutAnswersAsTheStandardContext(t *testing.T) {
	const short = 20 * time.Millisecond
	cause := errors.New("parent's cause")
	type env struct {
		ctx          context.Context
		cancel       context.CancelFunc
		cancelParent func()
		deadline     time.Time // the deadline asked for
		parentDL     time.Time
	}
	observe := func(e env, log *[]string) {
		d, ok := e.ctx.Deadline()
		dl := "other"
		switch {
		case !e.parentDL.IsZero() && d.Equal(e.parentDL):
			dl = "parent's"
		case d.Sub(e.deadline).Abs() < time.Second:
			dl = "own"
		}
		*log = append(*log, fmt.Sprintf("deadline %s %v; cause %v; err %v; value %v", dl, ok, context.Cause(e.ctx), e.ctx.Err(), e.ctx.Value(ctxKey{})))
	}
	observeDone := func(e env, log *[]string) {
		select {
		case <-e.ctx.Done():
			*log = append(*log, "done closed, err "+fmt.Sprint(e.ctx.Err()))
		default:
			*log = append(*log, "done open, err "+fmt.Sprint(e.ctx.Err()))
		}
	}
	scenarios := map[string]struct {
		d       time.Duration
		parentD time.Duration // 0: the parent has no deadline
		run     func(e env, log *[]string)
	}{
		"canceled before asked": {d: time.Minute, run: func(e env, log *[]string) {
			observe(e, log)
			e.cancel()
			observe(e, log)
			observeDone(e, log)
		}},
		"done asked, then canceled": {d: time.Minute, run: func(e env, log *[]string) {
			observeDone(e, log)
			e.cancel()
			observeDone(e, log)
			observe(e, log)
		}},
		"deadline passed, never waited on": {d: short, run: func(e env, log *[]string) {
			time.Sleep(3 * short)
			observe(e, log) // Cause first, then Err
			e.cancel()
			observe(e, log)
			observeDone(e, log)
		}},
		"deadline passed, err asked first": {d: short, run: func(e env, log *[]string) {
			time.Sleep(3 * short)
			*log = append(*log, fmt.Sprint(e.ctx.Err()))
			observe(e, log)
		}},
		"deadline closes done": {d: short, run: func(e env, log *[]string) {
			select {
			case <-e.ctx.Done():
				*log = append(*log, "closed "+fmt.Sprint(e.ctx.Err(), context.Cause(e.ctx)))
			case <-time.After(10 * time.Second):
				*log = append(*log, "never closed")
			}
		}},
		"parent canceled with a cause, cause asked first": {d: time.Minute, run: func(e env, log *[]string) {
			e.cancelParent()
			observe(e, log)
			e.cancel()
			observe(e, log)
			observeDone(e, log)
		}},
		"parent canceled, err asked first": {d: time.Minute, run: func(e env, log *[]string) {
			e.cancelParent()
			*log = append(*log, fmt.Sprint(e.ctx.Err()))
			observe(e, log)
		}},
		"canceled, then the parent": {d: time.Minute, run: func(e env, log *[]string) {
			e.cancel()
			e.cancelParent()
			observe(e, log)
			observeDone(e, log)
		}},
		"canceled after the deadline passed": {d: short, run: func(e env, log *[]string) {
			time.Sleep(3 * short)
			e.cancel()
			observe(e, log)
		}},
		"parent's deadline is earlier": {d: time.Minute, parentD: short, run: func(e env, log *[]string) {
			observe(e, log)
			time.Sleep(3 * short)
			observe(e, log)
		}},
		"parent's deadline is later": {d: short, parentD: time.Minute, run: func(e env, log *[]string) {
			observe(e, log)
			time.Sleep(3 * short)
			observe(e, log)
		}},
		"a child and an AfterFunc end with it": {d: time.Minute, run: func(e env, log *[]string) {
			child, cancelChild := context.WithCancel(e.ctx)
			defer cancelChild()
			ran := make(chan struct{})
			context.AfterFunc(e.ctx, func() { close(ran) })
			e.cancel()
			<-child.Done()
			<-ran
			*log = append(*log, fmt.Sprint("child ", child.Err(), context.Cause(child)))
		}},
		"a child after the deadline passed": {d: short, run: func(e env, log *[]string) {
			time.Sleep(3 * short)
			child, cancelChild := context.WithCancel(e.ctx)
			defer cancelChild()
			*log = append(*log, fmt.Sprint("child ", child.Err(), context.Cause(child)))
		}},
	}
	makers := map[string]func(context.Context, time.Duration) (context.Context, context.CancelFunc){
		"standard": context.WithTimeout, "withTimeout": withTimeout,
	}
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := map[string][]string{}
			for maker, with := range makers {
				root, cancelRoot := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
				parent := root
				var parentDL time.Time
				if sc.parentD > 0 {
					var c context.CancelFunc
					parent, c = context.WithTimeout(root, sc.parentD)
					defer c()
					parentDL, _ = parent.Deadline()
				}
				deadline := time.Now().Add(sc.d)
				ctx, cancel := with(parent, sc.d)
				var log []string
				sc.run(env{ctx: ctx, cancel: cancel, cancelParent: func() { cancelRoot(cause) }, deadline: deadline, parentDL: parentDL}, &log)
				cancel()
				cancelRoot(nil)
				got[maker] = log
			}
			if fmt.Sprint(got["withTimeout"]) != fmt.Sprint(got["standard"]) {
				t.Errorf("withTimeout answered\n%q\nthe standard context\n%q", got["withTimeout"], got["standard"])
			}
		})
	}
}

// BenchmarkHandlerTimeout is the handler context's cost when the handler
// never waits on it, against context.WithTimeout's (a shared cancelable
// parent, as the engine's workers have).
func BenchmarkHandlerTimeout(b *testing.B) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	for name, with := range map[string]func(context.Context, time.Duration) (context.Context, context.CancelFunc){
		"standard": context.WithTimeout, "withTimeout": withTimeout,
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, cancel := with(parent, time.Minute)
					_ = ctx.Value(ctxKey{})
					cancel()
				}
			})
		})
	}
}
