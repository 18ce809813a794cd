package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/motoserver"
)

// recorder is a reverse proxy in front of moto that keeps the PutEvents
// request bodies exactly as they went over the wire.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) server(t *testing.T, target string) *httptest.Server {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".PutEvents") {
			b, _ := io.ReadAll(req.Body)
			r.mu.Lock()
			r.bodies = append(r.bodies, b)
			r.mu.Unlock()
			req.Body = io.NopCloser(bytes.NewReader(b))
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The PutEvents request that reaches the emulator carries a TraceHeader in
// X-Ray format (EventBridge drops a header it cannot parse), in the trace of
// the ingest request: from a producer's traceparent header, and from a
// CloudEvent's traceparent extension when the request has none.
func TestPutEventsTraceHeaderIsXRay(t *testing.T) {
	h, _, _ := setup(t)
	var rec recorder
	proxy := rec.server(t, motoserver.Shared(t).Endpoint)
	h.API = eventbridge.NewFromConfig(motoserver.Shared(t).Config(), func(o *eventbridge.Options) { o.BaseEndpoint = &proxy.URL })
	h.Tracer = sdktrace.NewTracerProvider()
	srv := httptest.NewServer(h)
	defer srv.Close()

	const producer = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, body := post(t, srv, "application/cloudevents+json", map[string]string{"traceparent": "00-" + producer + "-00f067aa0ba902b7-01"}, order)
	if status != 202 {
		t.Fatalf("%d %s", status, body)
	}
	const fromEvent = "0af7651916cd43dd8448eb211c80319c"
	withExt := strings.Replace(order, `"id":"ord-1"`, `"id":"ord-2","traceparent":"00-`+fromEvent+`-b7ad6b7169203331-01"`, 1)
	if status, body := post(t, srv, "application/cloudevents+json", nil, withExt); status != 202 {
		t.Fatalf("%d %s", status, body)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bodies) != 2 {
		t.Fatalf("%d PutEvents requests recorded, want 2", len(rec.bodies))
	}
	for i, want := range []string{producer, fromEvent} {
		var in struct {
			Entries []struct{ TraceHeader string }
		}
		if err := json.Unmarshal(rec.bodies[i], &in); err != nil || len(in.Entries) != 1 {
			t.Fatalf("request %s: %v", rec.bodies[i], err)
		}
		th := in.Entries[0].TraceHeader
		sc := trace.SpanContextFromContext(xray.Propagator{}.Extract(context.Background(), propagation.MapCarrier{"X-Amzn-Trace-Id": th}))
		if !sc.IsValid() || !strings.HasPrefix(th, "Root=1-") {
			t.Errorf("request %d: TraceHeader %q does not parse as an X-Ray header", i, th)
			continue
		}
		if sc.TraceID().String() != want {
			t.Errorf("request %d: TraceHeader %q is in trace %s, want %s", i, th, sc.TraceID(), want)
		}
	}
}
