package delivery_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The Lambda functions settle with the contract (package delivery) and must
// not link the long-running runtime: each dependency here adds to the zip
// and to the cold start (Go runs every linked package's init) and is never
// used by a function. Their EMF metrics are plain counts of one invocation
// (package lambdametrics), so no Prometheus client either.
var runtimeOnly = []string{
	"github.com/eventplane/eventplane/consumers/engine",
	"github.com/eventplane/eventplane/consumers/admin",
	"github.com/eventplane/eventplane/consumers/assemble",
	"github.com/sony/gobreaker",
	"k8s.io/",
	"sigs.k8s.io/controller-runtime",
	"go.opentelemetry.io/contrib/exporters/autoexport",
	"go.opentelemetry.io/otel/exporters/prometheus",
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc",
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric",
	"go.opentelemetry.io/otel/exporters/otlp/otlplog",
	"github.com/prometheus/",
	"github.com/eventplane/eventplane/consumers/metrics",
	// text/template (through grpc's golang.org/x/net/trace unless built
	// with grpcnotrace, as hack/lambda.sh does): its reflection makes the
	// linker keep every exported method of every linked type.
	"text/template",
}

func TestLambdasLinkNoRuntimeOnlyDependency(t *testing.T) {
	for _, fn := range []string{"lambda-sqs", "lambda-files", "lambda-ingest"} {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-tags", "lambda.norpc,grpcnotrace", "-deps", "../cmd/"+fn)
			cmd.Env = append(cmd.Environ(), "GOOS=linux", "CGO_ENABLED=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", fn, err)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, bad := range runtimeOnly {
					if dep == bad || strings.HasPrefix(dep, strings.TrimSuffix(bad, "/")+"/") || strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad) {
						t.Errorf("%s links %s (runtime only; want only the delivery contract)", fn, dep)
					}
				}
			}
		})
	}
}
