// Package assemble builds a consumer's engine from its configuration: the
// routes' handlers from the registry, the idempotency middleware, and every
// runtime setting. The consumer binary (SQS, AWS clients) and the local
// stack (in-process queues, embedded storage) share it, so a consumer runs
// the same way in both.
package assemble

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/config"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/event"
	"github.com/eventplane/eventplane/consumers/handlers"
	"github.com/eventplane/eventplane/consumers/idempotency"
	"github.com/eventplane/eventplane/consumers/metrics"
	"github.com/eventplane/eventplane/consumers/route"
)

// Parts are what the engine runs on besides its configuration.
type Parts struct {
	Source   engine.Source
	FIFO     bool
	Registry *handlers.Registry
	Deps     handlers.Deps
	// Idempotency stores records in cfg.Consumer.IdempotencyTable (nil:
	// no idempotency middleware even if a table is configured).
	Idempotency idempotency.DynamoDBAPI
	// Middlewares wrap every route's handler, outside the idempotency one.
	Middlewares []engine.Middleware
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	Tracer      trace.TracerProvider
}

// Engine builds the engine of one consumer.
func Engine(ctx context.Context, cfg config.Config, p Parts) (*engine.Engine, error) {
	var routes []route.Route[engine.Handler]
	for _, rc := range cfg.Routes {
		h, err := p.Registry.Build(ctx, rc.Handler, p.Deps, rc.Options)
		if err != nil {
			return nil, fmt.Errorf("route %q: handler %s: %w", rc.Name, rc.Handler, err)
		}
		routes = append(routes, route.Route[engine.Handler]{Name: rc.Name, Pattern: string(rc.Pattern), Handler: h})
	}
	k := cfg.Consumer
	middlewares := append([]engine.Middleware(nil), p.Middlewares...)
	if k.IdempotencyTable != "" && p.Idempotency != nil {
		store := idempotency.NewDynamoDB(p.Idempotency, k.IdempotencyTable)
		middlewares = append(middlewares, idempotency.Middleware(store, idempotency.Options{
			Lease: k.HandlerTimeout.D() + time.Minute, TTL: k.IdempotencyTTL.D()}))
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
		Backoff:        engine.Backoff{Base: k.BackoffBase.D(), Max: k.BackoffMax.D()},
		HandlerTimeout: k.HandlerTimeout.D(),
		MaxExtension:   k.MaxExtension.D(),
		ShutdownGrace:  k.ShutdownGrace.D(),
		Unrouted:       engine.Unrouted(k.Unrouted),
		Breaker: engine.BreakerSettings{Disabled: k.Breaker.Disabled,
			ConsecutiveFailures: uint32(k.Breaker.ConsecutiveFailures), OpenFor: k.Breaker.OpenFor.D()}, // #nosec G115 -- validated positive and small in config.Validate
		Metrics: p.Metrics,
		Logger:  p.Logger,
		Tracer:  p.Tracer,
	})
}
