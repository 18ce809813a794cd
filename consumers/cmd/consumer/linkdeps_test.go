package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// What the consumer must not link, and why: each costs resident memory in
// every replica (Go runs every linked package's init, and touches most of
// the pages of the binary it maps).
var notLinked = map[string]string{
	// text/template's executor calls reflect.Value.MethodByName with names
	// known only at run time, and then the linker keeps every exported
	// method of every type in the binary (every S3, DynamoDB, EventBridge
	// and SNS operation): 36 MB instead of 24 MB (stripped). grpc (linked by the OTLP
	// packages) brings it through golang.org/x/net/trace unless built with
	// -tags=grpcnotrace, as hack/image-binaries.sh does.
	"text/template": "reflection that disables the linker's method pruning",
	"html/template": "reflection that disables the linker's method pruning",
	// The cloudevents SDK's client package and its context package, whose
	// init builds a zap production logger (448 kB of sampler counters, live
	// for the life of the process); the consumer needs only the event type.
	"github.com/cloudevents/sdk-go/v2/client": "the SDK's client (the consumer uses only its event type)",
	"go.uber.org/zap":                         "a logger built at init by the cloudevents SDK's context package",
	// One trace exporter, OTLP over HTTP/protobuf.
	"go.opentelemetry.io/contrib/exporters/autoexport": "every OTel exporter (gRPC, Prometheus, console)",
}

func TestImageConsumerLinksNoHeavyDependency(t *testing.T) {
	script, err := os.ReadFile("../../../hack/image-binaries.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), "-tags=grpcnotrace") {
		t.Fatal("hack/image-binaries.sh does not build with -tags=grpcnotrace")
	}
	cmd := exec.Command("go", "list", "-tags", "grpcnotrace", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for bad, why := range notLinked {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the consumer links %s: %s", dep, why)
			}
		}
	}
}
