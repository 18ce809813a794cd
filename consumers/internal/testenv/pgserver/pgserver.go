// Package pgserver runs a private PostgreSQL server (the real one, from the
// machine's PostgreSQL packages) on a free loopback port for tests: initdb
// into a temporary folder, start postgres, hand out a DSN, stop it at the end.
// As root it runs the server as the "postgres" user, as PostgreSQL requires.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// Server is a running PostgreSQL.
type Server struct {
	DSN  string
	dir  string
	bin  string
	asPG bool
}

// bindir finds the server binaries: $EVENTPLANE_PG_BIN, the newest
// /usr/lib/postgresql/<v>/bin, or the PATH.
func bindir() (string, error) {
	if d := os.Getenv("EVENTPLANE_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found: install them with `apt-get install -y postgresql` (or set EVENTPLANE_PG_BIN)")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	if s.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...) // #nosec G204 -- test helper: runs PostgreSQL's own binaries found by bindir
	}
	return exec.Command(path, args...) // #nosec G204 -- test helper: runs PostgreSQL's own binaries found by bindir
}

// Start initializes and starts a server in a temporary folder and waits
// until it accepts connections; Stop removes it.
func Start(ctx context.Context) (*Server, error) {
	dir, err := os.MkdirTemp("", "eventplane-pg-")
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
	}
	return s, err
}

// StartIn runs a server whose data lives in dir: initialized on first use
// and kept across runs (eventplane dev keeps it under .eventplane/). Close
// stops it and keeps the data.
func StartIn(ctx context.Context, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return start(ctx, abs)
}

func start(ctx context.Context, dir string) (*Server, error) {
	bin, err := bindir()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root needs the postgres user to run the server")
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.asPG = true
	}
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		if out, err := s.command("initdb", "-D", data, "-U", "eventplane", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %v\n%s", err, out)
		}
	}
	port, err := testserver.FreePort()
	if err != nil {
		return nil, err
	}
	// The socket goes into dir when its path fits a Unix socket address
	// (~107 bytes), else nowhere: clients use TCP on loopback.
	sockets := dir
	if len(dir) > 80 {
		sockets = "''"
	}
	logFile := filepath.Join(dir, "server.log")
	start := s.command("pg_ctl", "-D", data, "-l", logFile, "-w", "-t", "60", "start",
		"-o", fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off", port, sockets))
	if out, err := start.CombinedOutput(); err != nil {
		b, _ := os.ReadFile(logFile) // #nosec G304 -- the server log in the helper's own temp folder
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, b)
	}
	s.DSN = fmt.Sprintf("postgres://eventplane@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.DSN)
		if err == nil {
			_ = conn.Close(ctx)
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Close()
			return nil, fmt.Errorf("postgres did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Close stops the server (a fast shutdown: sessions end, data is written)
// and keeps its files.
func (s *Server) Close() {
	_ = s.command("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop").Run()
}

// Stop stops the server and removes its files.
func (s *Server) Stop() {
	_ = s.command("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	_ = os.RemoveAll(s.dir)
}

var shared testserver.Shared[*Server]

// StopShared stops the shared server if it was started (call it from
// TestMain).
func StopShared() { shared.Stop() }

// Shared returns the test binary's server, starting it on first use; a
// missing PostgreSQL fails the test with the command that installs it.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	return shared.Get(tb, func() (*Server, error) { return Start(context.Background()) })
}

// Connect opens a connection to the server for the test's own queries and
// closes it at the test's end.
func (s *Server) Connect(tb testing.TB) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), s.DSN)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}
