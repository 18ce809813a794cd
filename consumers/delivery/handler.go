package delivery

import (
	"context"
	"errors"
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Handler processes one CloudEvent. A nil error means the event's effect is
// durable; an error is retryable unless wrapped with Permanent.
type Handler interface {
	Handle(ctx context.Context, e *ce.Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, e *ce.Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, e *ce.Event) error { return f(ctx, e) }

// Middleware decorates a Handler (retry classification, breakers, timeouts,
// idempotency compose this way instead of nesting conditions).
type Middleware func(Handler) Handler

// Chain applies middlewares so that the first one is outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not retryable: the message goes straight to the
// dead-letter queue with err as its reason.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err // marked once: reasons read "permanent: ...", not "permanent: permanent: ..."
	}
	return &permanentError{err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err (or an error it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// ErrSkip may be returned by a middleware to acknowledge an event without
// calling the rest of the chain (a duplicate, for instance).
var ErrSkip = errors.New("event skipped")

type routeKey struct{}

// RouteName returns the name of the route whose handler chain runs with ctx
// ("" outside one). Middlewares use it to keep per-route state, such as
// idempotency records.
func RouteName(ctx context.Context) string {
	s, _ := ctx.Value(routeKey{}).(string)
	return s
}

// withRoute is ctx with the route name (boxed once per route: a string
// converted to any allocates).
func withRoute(ctx context.Context, name any) context.Context {
	return context.WithValue(ctx, routeKey{}, name)
}
