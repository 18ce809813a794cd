// Package localplatform starts the local platform (consumers/local) for a
// test: the platform, its HTTP API on a loopback test server and its run
// loop, all stopped when the test ends.
package localplatform

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/local"
)

// Start builds the platform from opts (Dir defaults to a test temporary
// folder, Logger to a discarding one), serves its API with the repository's
// event schemas and runs it. It returns the platform, the API's base URL and
// stop, which stops the platform (as at the test's end, where it is called
// too; a second call does nothing): an error from its run fails the test.
func Start(t testing.TB, opts local.Options) (p *local.Platform, url string, stop func()) {
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
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("platform stopped with: %v", err)
			}
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return p, srv.URL, stop
}
