package handlers

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
)

// The engine closes, at shutdown, every handler that is an io.Closer: the
// SQL handler must be one, and closing it ends its PostgreSQL sessions (an
// RDS instance counts them against max_connections).
func TestSQLClosesItsPoolAsAnIOCloser(t *testing.T) {
	pg := pgserver.Shared(t)
	ctx := context.Background()
	s, err := NewSQL(ctx, pg.DSN+"&application_name=sql-close-test", SQLOptions{Table: "close_events"}, SQLAuth{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, order("c-1", 1, time.Now())); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sessions := func() int {
		var n int
		if err := conn.QueryRow(ctx, `select count(*) from pg_stat_activity where application_name = 'sql-close-test'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sessions(); n == 0 {
		t.Fatal("no session of the handler's pool is open after a Handle")
	}
	c, ok := any(s).(io.Closer)
	if !ok {
		t.Fatal("*SQL is not an io.Closer: the engine cannot close its pool at shutdown")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sessions() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions still open 5s after Close", sessions())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
