package handlers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
)

func TestSQLInsertsEachEventOnce(t *testing.T) {
	pg := pgserver.Shared(t)
	ctx := context.Background()
	s, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "order_events"}, SQLAuth{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	// A second handler on the same table: the migration is idempotent.
	s2, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "order_events"}, SQLAuth{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	for _, e := range []string{"a", "b", "a"} {
		if err := s.Handle(ctx, order(e, 12.5, at)); err != nil {
			t.Fatal(err)
		}
	}
	conn := pg.Connect(t)
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
	if err := s.Handle(ctx, bad); !delivery.IsPermanent(err) {
		t.Fatalf("invalid data: %v, want permanent", err)
	}
	if _, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: "Robert'); DROP TABLE x;--"}, SQLAuth{}); err == nil {
		t.Fatal("table name not validated")
	}
}

// KEDA scales a consumer from zero to several replicas at once, and each
// runs the table migration at start. CREATE TABLE IF NOT EXISTS is not safe
// against itself in PostgreSQL (two sessions both see no table, and the
// second fails on pg_type's unique index), so the migration runs under an
// advisory lock: five replicas starting together on a new table all
// succeed. Several rounds, each on a fresh table, make the race likely.
func TestSQLReplicasMigrateTogether(t *testing.T) {
	pg := pgserver.Shared(t)
	ctx := context.Background()
	for round := range 8 {
		table := fmt.Sprintf("together_%d", round)
		start := make(chan struct{})
		errs := make(chan error, 5)
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s, err := NewSQL(ctx, pg.DSN, SQLOptions{Table: table}, SQLAuth{})
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: a replica failed to start: %v", round, err)
			}
		}
	}
}
