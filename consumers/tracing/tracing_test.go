package tracing_test

import (
	"context"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/eventplane/eventplane/consumers/tracing"
)

// OTLP/HTTP: spans are POSTed as protobuf to <endpoint>/v1/traces (the OTLP
// specification's default path for traces).
func TestOTLPHTTPExportsSpansToTheEndpoint(t *testing.T) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type")
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	tp, stop, err := tracing.Start(context.Background(), os.Getenv, tracing.OTLPHTTP(os.Getenv))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	_, span := tp.Tracer("test").Start(context.Background(), "work")
	span.End()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != "POST /v1/traces application/x-protobuf" {
		t.Errorf("request = %q", r)
	}
}

// A configuration the OTLP/HTTP exporter would silently ignore is refused,
// naming the variable.
func TestOTLPHTTPRefusesOtherExportersAndProtocols(t *testing.T) {
	for k, v := range map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"} {
		env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", k: v}
		_, _, err := tracing.Start(context.Background(), func(s string) string { return env[s] }, tracing.OTLPHTTP(func(s string) string { return env[s] }))
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err = %v, want one naming %s", k, v, err, k)
		}
	}
}

func TestStartIsOffWithoutConfigurationOrWithNone(t *testing.T) {
	for _, env := range []map[string]string{{}, {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}} {
		called := false
		tp, _, err := tracing.Start(context.Background(), func(s string) string { return env[s] }, func(context.Context) (sdktrace.SpanExporter, error) { called = true; return nil, nil })
		if err != nil || called {
			t.Errorf("env %v: err %v, exporter made %v", env, err, called)
		}
		if _, span := tp.Tracer("x").Start(context.Background(), "s"); span.IsRecording() {
			t.Errorf("env %v: span is recording", env)
		}
	}
}
