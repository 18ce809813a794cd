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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/buildinfo"
	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
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
	awsAddr := fs.String("aws-addr", "127.0.0.1:4566", "`HOST:PORT` of the AWS APIs (SQS, EventBridge, SNS, DynamoDB, S3) for the aws CLI and SDKs; \"\" for none")
	logLevel := fs.String("log-level", "info", "`LEVEL`: debug, info, warn or error")
	postgres := fs.Bool("postgres", true, "start a private PostgreSQL (data in DIR/postgres) from the system's binaries for sql routes, unless "+pgEnv+" is set")
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
	lv := new(slog.LevelVar)
	lv.Set(level)
	quiet := &shutdownLog{Handler: slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}), level: lv}
	log := slog.New(quiet)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(local.GCPercent)
	}
	ctx, stop := signalContext()
	defer stop()
	if err := dev(ctx, devOptions{topology: *topo, dir: *dir, addr: *addr, awsAddr: *awsAddr, postgres: *postgres, log: log, quiet: quiet}, stdout); err != nil {
		fmt.Fprintf(stderr, "eventplane dev: %v\n", err)
		return 1
	}
	return exitOK
}

// pgEnv is the variable the topology's sql route reads its DSN from.
const pgEnv = "EVENTPLANE_POSTGRES_DSN"

type devOptions struct {
	topology, dir, addr string
	awsAddr             string // "" for no AWS APIs
	postgres            bool
	log                 *slog.Logger
	quiet               *shutdownLog // nil: log everything at shutdown too
}

func dev(ctx context.Context, o devOptions, stdout io.Writer) error {
	start := time.Now()
	dir, addr, log := o.dir, o.addr, o.log
	top, err := topology.Load(o.topology)
	if err != nil {
		return err
	}
	schemas, err := events.Load()
	if err != nil {
		return err
	}
	getenv, pgLine := os.Getenv, "from "+pgEnv
	if os.Getenv(pgEnv) == "" {
		switch srv, err := startPostgres(ctx, dir, o.postgres); {
		case err != nil:
			pgLine = "not started: " + oneLine(err) + "\n              the analytics consumer stays stopped (its queue keeps the messages): install PostgreSQL\n              (apt-get install -y postgresql) and restart, or set " + pgEnv
		case srv == nil:
			pgLine = "off (--postgres=false): the analytics consumer stays stopped; set " + pgEnv + " to use one"
		default:
			defer srv.Close()
			getenv = func(k string) string {
				if k == pgEnv {
					return srv.DSN
				}
				return os.Getenv(k)
			}
			pgLine = srv.DSN + "   (data in " + filepath.Join(dir, "postgres") + ")"
		}
	}
	p, err := local.New(ctx, local.Options{Topology: top, Dir: dir, Logger: log, Getenv: getenv})
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
	awsLine := "off (--aws-addr \"\")"
	if o.awsAddr != "" {
		aws, err := serveAWS(ctx, o.awsAddr, p, log, served)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer aws.Close()
		awsLine = awsHint("http://" + aws.Addr)
	}
	// The consumers stop when dev says so (after quieting the log), not at
	// the signal itself: otherwise their "shutting down" lines race the
	// quiet shutdown log.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- p.Run(runCtx) }()
	select {
	case <-p.Started():
	case <-ctx.Done():
	case err := <-ran:
		ran <- err // Run ended before the consumers polled: the select below reports it
	}
	url := "http://" + ln.Addr().String()
	uploads := filepath.Join(dir, "buckets", p.Names.Buckets[p.Topology().UploadsBucket()])
	fmt.Fprintf(stdout, `eventplane is up in %d ms
  dashboard   %s/
  ingest API  POST %s/events   (eventplane send --endpoint %s FILE)
  uploads     drop files into %s/incoming/ (Lambda path) or %s/batch/ (consumer path)
  aws apis    %s
  postgres    %s
  data        %s (tables.db, buckets/, queues/) — kept across restarts
  version     %s
  stop        Ctrl-C
`, time.Since(start).Milliseconds(), url, url, url, uploads, uploads, awsLine, pgLine, dir, buildinfo.Version())
	var runErr error
	select {
	case <-ctx.Done():
		stopping := time.Now()
		if o.quiet != nil {
			o.quiet.shutdown() // one summary line, not a line per consumer and released message
		}
		cancel()
		runErr = <-ran
		defer func() {
			if runErr == nil {
				released := ""
				if o.quiet != nil && o.quiet.released.Load() > 0 {
					released = fmt.Sprintf(", %d in-flight messages released", o.quiet.released.Load())
				}
				fmt.Fprintf(stdout, "%seventplane stopped in %.1f s%s; queues saved to %s\n", afterCtrlC(stdout), time.Since(stopping).Seconds(), released, filepath.Join(dir, "queues"))
			}
		}()
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
	return runErr
}

// startPostgres starts the private PostgreSQL of eventplane dev, or returns
// nil when it is off.
func startPostgres(ctx context.Context, dir string, on bool) (*pgserver.Server, error) {
	if !on {
		return nil, nil
	}
	if os.Geteuid() == 0 {
		// The server runs as the postgres user, which must reach DIR/postgres:
		// let it through DIR (no listing: o+x only), and say which folder
		// above stops it.
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		if err := os.Chmod(dir, 0o751); err != nil { // #nosec G302 -- a folder, not a file: the postgres user must traverse it to reach its data directory
			return nil, err
		}
		abs, _ := filepath.Abs(dir)
		for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				return nil, fmt.Errorf("the postgres user cannot reach %s: %s is not searchable by others (chmod o+x it, or use another --dir)", dir, d)
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return pgserver.StartIn(ctx, filepath.Join(dir, "postgres"))
}

// afterCtrlC starts the summary on a line of its own on a terminal, which
// has just echoed "^C".
func afterCtrlC(w io.Writer) string {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "\n"
		}
	}
	return ""
}

// oneLine is the line of err that says what went wrong (initdb prints a
// page; its "error:" line is the reason).
func oneLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, l := range lines {
		if strings.Contains(l, "error:") {
			return strings.TrimSpace(l)
		}
	}
	return lines[0]
}

// shutdownLog is eventplane dev's log handler: after Ctrl-C it keeps only
// warnings and errors, and counts the messages the consumers release
// (handed back to the queue, saved with it and processed after the next
// start) instead of logging each.
type shutdownLog struct {
	slog.Handler
	level    *slog.LevelVar
	stopping atomic.Bool
	released atomic.Int64
}

func (h *shutdownLog) shutdown() {
	h.stopping.Store(true)
	if h.level.Level() < slog.LevelWarn {
		h.level.Set(slog.LevelWarn)
	}
}

func (h *shutdownLog) Handle(ctx context.Context, r slog.Record) error {
	if h.stopping.Load() && strings.Contains(r.Message, "message released") {
		h.released.Add(1)
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *shutdownLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &shutdownChild{parent: h, Handler: h.Handler.WithAttrs(attrs)}
}

func (h *shutdownLog) WithGroup(name string) slog.Handler {
	return &shutdownChild{parent: h, Handler: h.Handler.WithGroup(name)}
}

// shutdownChild is a shutdownLog with attributes (logger.With), sharing
// its parent's state.
type shutdownChild struct {
	slog.Handler
	parent *shutdownLog
}

func (h *shutdownChild) Handle(ctx context.Context, r slog.Record) error {
	if h.parent.stopping.Load() && strings.Contains(r.Message, "message released") {
		h.parent.released.Add(1)
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *shutdownChild) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &shutdownChild{parent: h.parent, Handler: h.Handler.WithAttrs(attrs)}
}

func (h *shutdownChild) WithGroup(name string) slog.Handler {
	return &shutdownChild{parent: h.parent, Handler: h.Handler.WithGroup(name)}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}
