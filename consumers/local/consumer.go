package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/assemble"
	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/topology"
)

// consumer builds the engine of a topology consumer the way the operator
// configures it in a cluster, on the local queue and storage.
func (p *Platform) consumer(ctx context.Context, reg *handlers.Registry, deps handlers.Deps, c topology.Consumer) (*Consumer, error) {
	lc := &Consumer{Name: c.Name, Queue: c.Queue}
	cfg := config.Default()
	cfg.Queue.URL = p.Names.Queues[c.Queue]
	if p.opts.BackoffBase > 0 {
		cfg.Consumer.BackoffBase = config.Duration(p.opts.BackoffBase)
	}
	cfg.Consumer.MaxInFlight = 500
	// Stopping does not wait for batching handlers (the archive's group
	// commit): what they hold is released, saved and handled after the
	// next start.
	cfg.Consumer.ShutdownGrace = config.Duration(2 * time.Second)
	if idem := p.top.IdempotencyTable(); idem != "" && slices.Contains(c.Uses.Tables, idem) {
		cfg.Consumer.IdempotencyTable = p.Names.Tables[idem]
	}
	for _, r := range c.Routes {
		opts := r.Options
		if len(opts) > 0 {
			var err error
			if opts, err = topology.ResolveOptions(opts, p.Names); err != nil {
				return nil, fmt.Errorf("consumer %s route %s: %w", c.Name, r.Name, err)
			}
		}
		if r.Handler == "archive" {
			opts = localArchive(opts)
		}
		if r.Handler == "sql" {
			if env := sqlDSNEnv(opts); p.opts.Getenv(env) == "" {
				lc.Disabled = fmt.Sprintf("route %s needs PostgreSQL: set %s to a DSN (its queue keeps the messages meanwhile)", r.Name, env)
				return lc, nil
			}
		}
		cfg.Routes = append(cfg.Routes, config.Route{Name: r.Name, Handler: r.Handler, Pattern: r.Pattern, Options: opts})
	}
	count := func(next delivery.Handler) delivery.Handler {
		return delivery.HandlerFunc(func(ctx context.Context, e *ce.Event) error {
			err := next.Handle(ctx, e)
			lc.routeRun.Add(1)
			if err != nil && !errors.Is(err, delivery.ErrSkip) {
				lc.failed.Add(1)
			}
			return err
		})
	}
	lc.source = &countedSource{Source: p.queues[c.Queue]}
	eng, err := assemble.Engine(ctx, cfg, assemble.Parts{
		Source: lc.source, FIFO: strings.HasSuffix(c.Queue, ".fifo"), Registry: reg, Deps: deps,
		Idempotency: p.Tables, Middlewares: []delivery.Middleware{count}, Logger: p.log.With("consumer", c.Name), Tracer: p.opts.Tracer,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", c.Name, err)
	}
	lc.engine = eng
	return lc, nil
}

// LocalArchiveMaxAge caps the archive's group commit locally: in the cloud
// an archive route holds an event up to its maxAge (10s in the topology)
// to fill an S3 object, which locally only shows as ten-second handling
// times on the dashboard and in tail. A batch still fills to maxEvents
// under load.
const LocalArchiveMaxAge = time.Second

// LocalArchiveGzipLevel is the archive's deflate level locally when the
// route sets none: ~1.6x cheaper than the default level for objects ~12%
// larger (handlers.BenchmarkArchiveGzip), where disk is cheap and the CPU is
// shared by the whole platform. Readers see the same lines.
const LocalArchiveGzipLevel = 2

// localArchive applies LocalArchiveMaxAge and LocalArchiveGzipLevel to an
// archive route's options.
func localArchive(opts json.RawMessage) json.RawMessage {
	o := map[string]any{}
	if len(opts) > 0 && json.Unmarshal(opts, &o) != nil {
		return opts // the handler reports the bad options
	}
	if s, _ := o["maxAge"].(string); s != "" {
		if _, err := time.ParseDuration(s); err != nil {
			return opts // the handler reports the bad duration
		}
	}
	if d, err := time.ParseDuration(fmt.Sprint(o["maxAge"])); err != nil || d > LocalArchiveMaxAge {
		o["maxAge"] = LocalArchiveMaxAge.String()
	}
	if _, ok := o["gzipLevel"]; !ok {
		o["gzipLevel"] = LocalArchiveGzipLevel
	}
	b, _ := json.Marshal(o)
	return b
}

func sqlDSNEnv(opts json.RawMessage) string {
	var o struct {
		DSNEnv string `json:"dsnEnv"`
	}
	_ = json.Unmarshal(opts, &o)
	if o.DSNEnv == "" {
		return "EVENTPLANE_POSTGRES_DSN"
	}
	return o.DSNEnv
}
