package handlers

import (
	"os"
	"strings"
	"testing"
)

// The names CheckNames allows are the CRD's: its generated schema carries
// the same pattern and length for a route's handler.
func TestValidNameIsTheCRDs(t *testing.T) {
	crd, err := os.ReadFile("../../charts/eventplane/crds/eventplane.io_eventconsumers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(crd), "pattern: "+validName.String()) || !strings.Contains(string(crd), "maxLength: 63") {
		t.Fatalf("the CRD's handler pattern is not %s (max 63): keep CheckNames and the +kubebuilder markers together", validName)
	}
	reg := NewRegistry()
	if err := reg.CheckNames(); err != nil {
		t.Fatalf("a built-in handler name is refused: %v", err)
	}
}
