package event

import (
	"context"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The trace context travels in each transport's own trace header: the X-Ray
// header in PutEvents' TraceHeader and SQS's AWSTraceHeader system
// attribute, W3C traceparent in message attributes (SNS) and HTTP headers.
// Both formats are read and written by OpenTelemetry's propagators, never by
// hand.
var (
	xrayPropagator propagation.TextMapPropagator = xray.Propagator{}
	w3cPropagator  propagation.TextMapPropagator = propagation.TraceContext{}
)

// xrayHeaderKey is the carrier key the X-Ray propagator reads and writes.
const xrayHeaderKey = "X-Amzn-Trace-Id"

// traceFromAttributes takes trace context from message attributes: a valid
// W3C traceparent attribute wins over the X-Ray AWSTraceHeader system
// attribute. Invalid values are discarded, as W3C Trace Context prescribes.
func traceFromAttributes(env *envelope, system, user map[string]string) {
	if tp, ok := user["traceparent"]; ok {
		c := propagation.MapCarrier{"traceparent": tp}
		if ts := user["tracestate"]; ts != "" {
			c["tracestate"] = ts
		}
		if sc := trace.SpanContextFromContext(w3cPropagator.Extract(context.Background(), c)); sc.IsValid() {
			env.traceparent, env.tracestate = traceparent(sc)
			return
		}
	}
	if x, ok := system["AWSTraceHeader"]; ok {
		if tp, ok := XRayToTraceparent(x); ok {
			env.traceparent, env.tracestate = tp, ""
		}
	}
}

// XRayToTraceparent converts an X-Ray trace header
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1)
// into a W3C traceparent. It reports false when the header has no valid root
// or parent.
func XRayToTraceparent(h string) (string, bool) {
	if h == "" {
		return "", false // no header: what the propagator answers, without its carrier and context
	}
	sc := trace.SpanContextFromContext(xrayPropagator.Extract(context.Background(), propagation.MapCarrier{xrayHeaderKey: h}))
	if !sc.IsValid() {
		return "", false
	}
	tp, _ := traceparent(sc)
	return tp, true
}

// traceparent formats sc as W3C traceparent and tracestate.
func traceparent(sc trace.SpanContext) (string, string) {
	c := propagation.MapCarrier{}
	w3cPropagator.Inject(trace.ContextWithRemoteSpanContext(context.Background(), sc), c)
	return c["traceparent"], c["tracestate"]
}

// XRayHeader returns the X-Ray trace header of the span in ctx ("" without
// a valid span): the value for PutEvents' TraceHeader and SQS's
// AWSTraceHeader.
func XRayHeader(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "" // the propagator injects nothing for an invalid span context
	}
	c := propagation.MapCarrier{}
	xrayPropagator.Inject(ctx, c)
	return c[xrayHeaderKey]
}

// Traceparent returns the W3C traceparent of the span in ctx ("" without a
// valid span): the value for SNS message attributes and HTTP headers.
func Traceparent(ctx context.Context) string {
	tp, _ := traceparent(trace.SpanContextFromContext(ctx))
	return tp
}

// TraceparentToXRay converts a W3C traceparent into an X-Ray trace header.
func TraceparentToXRay(tp string) (string, bool) {
	ctx := w3cPropagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
	h := XRayHeader(ctx)
	return h, h != ""
}
