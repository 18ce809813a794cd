package local

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/route"
)

// function builds a Lambda target: the function's Go core with the
// settings Terraform gives it in the cloud.
func (p *Platform) function(ctx context.Context, reg *handlers.Registry, deps handlers.Deps, name string) (Function, error) {
	lam, ok := p.top.Lambda(name)
	if !ok {
		return nil, fmt.Errorf("lambda %s is not declared", name)
	}
	switch lam.Handler {
	case "lambda-files":
		// The settings Terraform gives the function: its results table
		// and bus (EVENTPLANE_FILES_TABLE, EVENTPLANE_BUS).
		opts := map[string]string{"table": p.Names.Tables[lam.Table]}
		if lam.Bus != "" {
			opts["completionBus"] = p.Names.Buses[lam.Bus]
		}
		raw, _ := json.Marshal(opts)
		h, err := reg.Build(ctx, "file", deps, raw)
		if err != nil {
			return nil, fmt.Errorf("lambda %s: %w", name, err)
		}
		// The function's core settles through the engine's one settlement
		// function, as lambda-files does: a permanent failure goes to its
		// dead-letter queue with the reason (no retries), anything else is
		// an error that Lambda's asynchronous policy retries (Bus.invoke).
		proc, err := delivery.NewProcessor(delivery.ProcessorOptions{System: "aws_lambda", Tracer: p.opts.Tracer, Routes: []route.Route[delivery.Handler]{{Name: name, Handler: h}}})
		if err != nil {
			return nil, fmt.Errorf("lambda %s: %w", name, err)
		}
		// The topology's failure queue is the function's dead-letter queue
		// (EVENTPLANE_DEAD_LETTER_URL) and on-failure destination.
		failures := p.top.Failures.Queue
		dlq := p.queues[failures]
		return func(ctx context.Context, doc []byte) error {
			return proc.Invocation(ctx, doc, func(_ context.Context, reason string) error {
				if dlq == nil {
					return fmt.Errorf("lambda %s: no failures.queue in the topology to dead-letter to", name)
				}
				_, err := dlq.Send(string(doc), map[string]string{delivery.AttrFailureReason: reason, delivery.AttrSourceQueue: "lambda:" + name}, "dead-letter")
				return err
			})
		}, nil
	}
	return nil, fmt.Errorf("lambda %s: handler %s cannot run as a local rule target", name, lam.Handler)
}
