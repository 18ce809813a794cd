package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The image's consumer is built with -tags=grpcnotrace (hack/image-binaries.sh)
// and links no text/template: text/template's executor calls
// reflect.Value.MethodByName with names known only at run time, and then the
// linker keeps every exported method of every type in the binary (every S3,
// DynamoDB, EventBridge and SNS operation): 55 MB instead of 38 MB, and
// resident memory grows with it, since Go touches most of the pages it maps.
func TestImageConsumerLinksNoTextTemplate(t *testing.T) {
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
		if dep == "text/template" || dep == "html/template" {
			t.Errorf("the consumer links %s", dep)
		}
	}
}
