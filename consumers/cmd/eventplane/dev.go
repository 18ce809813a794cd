package main

import (
	"context"
	"errors"
	"flag"
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
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topo := fs.String("topology", "api/topology.yaml", "topology file")
	dir := fs.String("dir", ".eventplane", "data folder: tables.db, buckets/ (drop uploads into buckets/local-uploads/), queues/")
	addr := fs.String("addr", "127.0.0.1:4000", "address of the ingest API and the dashboard")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
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
