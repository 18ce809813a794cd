package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

// devCmd runs the whole platform locally until SIGINT/SIGTERM.
func devCmd(args []string, stdout, stderr io.Writer) int {
	c := newCommand("dev", "dev [flags]", `Runs the whole platform locally in one process, from the topology: bus,
rules, topics, queues, consumers, storage, the ingest API and a dashboard.
Data is kept in --dir across restarts. Stop with Ctrl-C (exit 0).`, stdout, stderr)
	fs := c.fs
	topo := fs.String("topology", "api/topology.yaml", "topology `FILE`")
	dir := fs.String("dir", ".eventplane", "data `DIR`: tables.db, buckets/ (drop uploads into buckets/local-uploads/), queues/")
	addr := fs.String("addr", "127.0.0.1:4000", "`HOST:PORT` of the ingest API and the dashboard")
	logLevel := fs.String("log-level", "info", "`LEVEL`: debug, info, warn or error")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return c.fail("unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "eventplane dev: --log-level: %v\n", err)
		return exitBad
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(local.GCPercent)
	}
	ctx, stop := signalContext()
	defer stop()
	if err := dev(ctx, *topo, *dir, *addr, log, stdout); err != nil {
		fmt.Fprintf(stderr, "eventplane dev: %v\n", err)
		return 1
	}
	return exitOK
}

func dev(ctx context.Context, topoPath, dir, addr string, log *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	top, err := topology.Load(topoPath)
	if err != nil {
		return err
	}
	schemas, err := events.Load()
	if err != nil {
		return err
	}
	p, err := local.New(ctx, local.Options{Topology: top, Dir: dir, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w (another eventplane dev running? use --addr)", addr, err)
	}
	srv := &http.Server{Handler: p.Handler(schemas), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- p.Run(runCtx) }()
	for !p.Ready() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	url := "http://" + ln.Addr().String()
	uploads := filepath.Join(dir, "buckets", p.Names.Buckets["uploads"])
	fmt.Fprintf(stdout, `eventplane is up in %d ms
  dashboard   %s/
  ingest API  POST %s/events   (eventplane send --endpoint %s FILE)
  uploads     drop files into %s/incoming/ (Lambda path) or %s/batch/ (consumer path)
  data        %s (tables.db, buckets/, queues/) — kept across restarts
  stop        Ctrl-C
`, time.Since(start).Milliseconds(), url, url, url, uploads, uploads, dir)
	var runErr error
	select {
	case <-ctx.Done():
		cancel()
		runErr = <-ran
	case runErr = <-ran:
	case err := <-served:
		cancel()
		<-ran
		return err
	}
	shutdown, done := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer done()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		runErr = errors.Join(runErr, err)
	}
	if runErr == nil {
		fmt.Fprintln(stdout, "eventplane stopped; queues saved to", filepath.Join(dir, "queues"))
	}
	return runErr
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
