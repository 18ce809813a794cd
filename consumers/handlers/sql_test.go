package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/pgserver"
)

func TestSQLInsertsEachEventOnce(t *testing.T) {
	pg := pgserver.Shared(t)
	ctx := context.Background()
	s, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "order_events"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A second handler on the same table: the migration is idempotent.
	s2, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "order_events"})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	at := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	for _, e := range []string{"a", "b", "a"} {
		if err := s.Handle(ctx, order(e, 12.5, at)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int
	var total float64
	if err := conn.QueryRow(ctx, `SELECT count(*), sum((data->>'total')::numeric) FROM order_events WHERE type = 'io.eventplane.demo.order.placed.v1'`).Scan(&rows, &total); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || total != 25 {
		t.Fatalf("%d rows, total %v: want 2 rows (the duplicate ignored), 25", rows, total)
	}
	bad := order("c", 1, at)
	bad.DataEncoded = []byte(`{"total": `)
	if err := s.Handle(ctx, bad); !engine.IsPermanent(err) {
		t.Fatalf("invalid data: %v, want permanent", err)
	}
	if _, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "Robert'); DROP TABLE x;--"}); err == nil {
		t.Fatal("table name not validated")
	}
}
