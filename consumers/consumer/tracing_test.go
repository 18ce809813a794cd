package consumer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/consumer"
)

// The consumer exports traces with OTLP over HTTP/protobuf only, like the
// Lambdas (one exporter: the gRPC and console exporters autoexport would
// link cost the binary 3 MB). A configuration naming another protocol or
// exporter stops the start with a message naming the variable, instead of
// running without the traces it asked for.
func TestConsumerRefusesATraceExporterItDoesNotLink(t *testing.T) {
	for want, env := range map[string]map[string]string{
		`OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\"`: {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		`OTEL_TRACES_EXPORTER=\"console\"`:     {"OTEL_TRACES_EXPORTER": "console"},
	} {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // bounds a start that is wrongly allowed
		code := consumer.Run(ctx, []string{"--queue-url", "http://127.0.0.1:1/000000000000/q", "--endpoint", "http://127.0.0.1:1",
			"--admin-addr", "", "--debug-addr", "", "--routes", `[{"name":"all","handler":"log"}]`},
			func(k string) string { return env[k] }, &out, &errb)
		cancel()
		if code != 1 || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "http/protobuf") {
			t.Errorf("%v: exit %d, log %s; want 1 and an error naming %s and the protocol it exports", env, code, out.String(), want)
		}
	}
}
