package event

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The shortcuts for no header and no span answer what the propagators do.
func TestTraceShortcutsAnswerAsThePropagators(t *testing.T) {
	if tp, ok := XRayToTraceparent(""); ok || tp != "" {
		t.Errorf(`XRayToTraceparent("") = %q, %v`, tp, ok)
	}
	sc := trace.SpanContextFromContext(xrayPropagator.Extract(context.Background(), propagation.MapCarrier{xrayHeaderKey: ""}))
	if sc.IsValid() {
		t.Errorf("the X-Ray propagator extracts a span from an empty header")
	}
	for name, ctx := range map[string]context.Context{
		"no span":      context.Background(),
		"invalid span": trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}),
	} {
		c := propagation.MapCarrier{}
		xrayPropagator.Inject(ctx, c)
		if got := XRayHeader(ctx); got != c[xrayHeaderKey] || got != "" {
			t.Errorf("%s: XRayHeader = %q, the propagator injects %q", name, got, c[xrayHeaderKey])
		}
	}
	const h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	tp, ok := XRayToTraceparent(h)
	if !ok || tp != "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01" {
		t.Errorf("XRayToTraceparent(%q) = %q, %v", h, tp, ok)
	}
	if back, ok := TraceparentToXRay(tp); !ok || back != h {
		t.Errorf("TraceparentToXRay(%q) = %q, %v", tp, back, ok)
	}
}
