package consumer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventplane/eventplane/consumers/consumer"
)

// An EventConsumer names a route's handler by a name its CRD accepts
// (^[A-Za-z][A-Za-z0-9_.-]*$, at most 63 characters, as the API server
// enforces: api/v1alpha1 TestCRDValidation). A program that registers a name
// no EventConsumer can use is told so at start, not left with a handler
// nothing can route to.
func TestHandleRefusesANameTheCRDRefuses(t *testing.T) {
	noop := func(context.Context, cloudevents.Event) error { return nil }
	for _, name := range []string{"1x", "en rich", "", strings.Repeat("a", 64)} {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // bounds a start that is wrongly allowed
		code := consumer.Run(ctx, []string{"--queue-url", "http://127.0.0.1:1/000000000000/q", "--endpoint", "http://127.0.0.1:1",
			"--admin-addr", "", "--debug-addr", "", "--routes", `[{"name":"all","handler":"log"}]`},
			func(string) string { return "" }, &out, &errb, consumer.Handle(name, noop))
		cancel()
		if code != 2 || !strings.Contains(errb.String(), "handler name") {
			t.Errorf("name %q: exit %d, stderr %q; want 2 naming the handler", name, code, errb.String())
		}
	}
}
