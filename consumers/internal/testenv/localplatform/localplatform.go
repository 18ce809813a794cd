// Package localplatform starts the local platform (consumers/local) for a
// test: the platform, its HTTP API on a loopback test server and its run
// loop, all stopped when the test ends.
package localplatform

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/local"
)

// Start builds the platform from opts (Dir defaults to a test temporary
// folder, Logger to a discarding one), serves its API with the repository's
// event schemas and runs it. It returns the platform and the API's base URL.
// At the test's end the platform is stopped and an error from its run fails
// the test.
func Start(t testing.TB, opts local.Options) (*local.Platform, string) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := local.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := events.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler(schemas))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("platform stopped with: %v", err)
		}
		srv.Close()
	})
	return p, srv.URL
}
