package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventplane/eventplane/consumers/engine"
)

// SQLOptions configure the sql handler.
type SQLOptions struct {
	// DSNEnv names the environment variable holding the PostgreSQL DSN
	// (default EVENTPLANE_POSTGRES_DSN); the DSN itself never sits in a
	// config file.
	DSNEnv string `json:"dsnEnv,omitempty"`
	// Table receives the events (default "events"); created if missing.
	Table string `json:"table,omitempty"`
}

// SQL inserts events into PostgreSQL (the RDS path) for relational queries:
// one row per event, keyed by (source, id) — INSERT ... ON CONFLICT DO
// NOTHING makes redeliveries harmless without an idempotency record.
type SQL struct {
	pool   *pgxpool.Pool
	insert string
}

var sqlIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// migration creates the table and its indexes; it is idempotent.
const migration = `
CREATE TABLE IF NOT EXISTS %[1]s (
  source      text        NOT NULL,
  id          text        NOT NULL,
  type        text        NOT NULL,
  subject     text,
  time        timestamptz,
  data        jsonb,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, id)
);
CREATE INDEX IF NOT EXISTS %[1]s_type_time ON %[1]s (type, time);
CREATE INDEX IF NOT EXISTS %[1]s_subject ON %[1]s (subject);
`

// NewSQL connects, runs the table's migration and returns the handler.
func NewSQL(ctx context.Context, dsn string, opt SQLOptions) (*SQL, error) {
	if opt.Table == "" {
		opt.Table = "events"
	}
	if !sqlIdent.MatchString(opt.Table) {
		return nil, fmt.Errorf("options.table: %q is not a lower-case SQL identifier", opt.Table)
	}
	if dsn == "" {
		return nil, errors.New("sql: empty PostgreSQL DSN")
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := pool.Exec(mctx, fmt.Sprintf(migration, opt.Table)); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sql: migrate table %s: %w", opt.Table, err)
	}
	return &SQL{pool: pool, insert: fmt.Sprintf(
		`INSERT INTO %s (source, id, type, subject, time, data) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, id) DO NOTHING`, opt.Table)}, nil
}

func newSQL(ctx context.Context, deps Deps, options json.RawMessage) (engine.Handler, error) {
	var o SQLOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if o.DSNEnv == "" {
		o.DSNEnv = "EVENTPLANE_POSTGRES_DSN"
	}
	getenv := deps.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	dsn := getenv(o.DSNEnv)
	if dsn == "" {
		return nil, fmt.Errorf("sql: environment variable %s (options.dsnEnv) is empty", o.DSNEnv)
	}
	return NewSQL(ctx, dsn, o)
}

// ManagesDuplicates marks SQL as idempotent by its primary key.
func (s *SQL) ManagesDuplicates() {}

// Close releases the connection pool.
func (s *SQL) Close() { s.pool.Close() }

// Handle implements engine.Handler.
func (s *SQL) Handle(ctx context.Context, e *ce.Event) error {
	var data any
	if len(e.Data()) > 0 {
		if e.DataMediaType() == "application/json" {
			if !json.Valid(e.Data()) {
				return engine.Permanentf("sql: data of event %s is not valid JSON", e.ID())
			}
			data = json.RawMessage(e.Data())
		} else {
			b, _ := json.Marshal(map[string]string{"data": string(e.Data())})
			data = json.RawMessage(b)
		}
	}
	var subject, at any
	if e.Subject() != "" {
		subject = e.Subject()
	}
	if !e.Time().IsZero() {
		at = e.Time()
	}
	if _, err := s.pool.Exec(ctx, s.insert, e.Source(), e.ID(), e.Type(), subject, at, data); err != nil {
		return fmt.Errorf("sql: insert event %s: %w", e.ID(), err)
	}
	return nil
}
