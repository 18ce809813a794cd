// Package assemble builds a consumer's engine from its configuration: the
// routes' handlers from the registry, the idempotency middleware, and every
// runtime setting. The consumer binary (SQS, AWS clients) and the local
// stack (in-process queues, embedded storage) share it, so a consumer runs
// the same way in both.
package assemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/idempotency"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// Parts are what the engine runs on besides its configuration.
type Parts struct {
	Source delivery.Source
	// MaxReceiveCount is the queue's redrive maxReceiveCount (0: unknown or
	// none); with idempotency on, it must cover the claim lease.
	MaxReceiveCount int
	FIFO            bool
	Registry        *handlers.Registry
	Deps            handlers.Deps
	// Idempotency stores records in cfg.Consumer.IdempotencyTable (nil:
	// no idempotency middleware even if a table is configured).
	Idempotency idempotency.DynamoDBAPI
	// Middlewares wrap every route's handler, outside the idempotency one.
	Middlewares []delivery.Middleware
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	Tracer      trace.TracerProvider
}

// Engine builds the engine of one consumer.
// If it fails, the handlers already built are closed (those that are an
// io.Closer): no engine will run, and so none will close them.
func Engine(ctx context.Context, cfg config.Config, p Parts) (eng *engine.Engine, err error) {
	var routes []route.Route[delivery.Handler]
	defer func() {
		if err == nil {
			return
		}
		for _, rt := range routes {
			if c, ok := rt.Handler.(io.Closer); ok {
				err = errors.Join(err, c.Close())
			}
		}
	}()
	for _, rc := range cfg.Routes {
		h, err := p.Registry.Build(ctx, rc.Handler, p.Deps, rc.Options)
		if err != nil {
			return nil, fmt.Errorf("route %q: handler %s: %w", rc.Name, rc.Handler, err)
		}
		routes = append(routes, route.Route[delivery.Handler]{Name: rc.Name, Pattern: string(rc.Pattern), Handler: h})
	}
	k := cfg.Consumer
	middlewares := append([]delivery.Middleware(nil), p.Middlewares...)
	if k.IdempotencyTable != "" && p.Idempotency != nil {
		lease, err := Lease(p.Source.VisibilityTimeout(), p.MaxReceiveCount)
		if err != nil {
			return nil, err
		}
		store := idempotency.NewDynamoDB(p.Idempotency, k.IdempotencyTable)
		middlewares = append(middlewares, idempotency.Middleware(store, idempotency.Options{
			Lease: lease, TTL: k.IdempotencyTTL.D(), Logger: p.Logger}))
	}
	return engine.New(engine.Options{
		Middlewares:    middlewares,
		Source:         p.Source,
		Normalizer:     event.Normalizer{FallbackType: cfg.Queue.FallbackType},
		Routes:         routes,
		FIFO:           p.FIFO,
		MaxInFlight:    k.MaxInFlight,
		ReceiveBatch:   k.ReceiveBatch,
		FlushInterval:  k.AckFlush.D(),
		Backoff:        delivery.Backoff{Base: k.BackoffBase.D(), Max: k.BackoffMax.D()},
		HandlerTimeout: k.HandlerTimeout.D(),
		MaxExtension:   k.MaxExtension.D(),
		ShutdownGrace:  k.ShutdownGrace.D(),
		Unrouted:       delivery.Unrouted(k.Unrouted),
		Breaker: engine.BreakerSettings{Disabled: k.Breaker.Disabled,
			ConsecutiveFailures: uint32(k.Breaker.ConsecutiveFailures), OpenFor: k.Breaker.OpenFor.D()}, // #nosec G115 -- validated positive and small in config.Validate
		Metrics: p.Metrics,
		Logger:  p.Logger,
		Tracer:  p.Tracer,
	})
}

// Lease is the idempotency claim's lease for a queue's visibility timeout:
// twice the visibility timeout (at least 10s), renewed while the handler
// runs. A crashed worker's events come back after the visibility timeout,
// find the claim and wait for the rest of the lease: that costs receives, so
// maxReceiveCount × visibility must cover the lease or healthy messages
// would be dead-lettered.
func Lease(visibility time.Duration, maxReceiveCount int) (time.Duration, error) {
	lease := max(2*visibility, 10*time.Second)
	if maxReceiveCount > 0 && time.Duration(maxReceiveCount)*visibility < lease {
		return 0, fmt.Errorf("idempotency: the queue's maxReceiveCount %d × visibility timeout %v is shorter than the claim lease %v: "+
			"a crashed worker's events would be dead-lettered before its claim expires; raise maxReceiveCount to at least %d",
			maxReceiveCount, visibility, lease, int((lease+visibility-1)/visibility))
	}
	return lease, nil
}
