package handlers

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdsauth "github.com/aws/aws-sdk-go-v2/feature/rds/auth"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// SQLOptions configure the sql handler.
type SQLOptions struct {
	// DSNEnv names the environment variable holding the PostgreSQL DSN
	// (default EVENTPLANE_POSTGRES_DSN); the DSN itself never sits in a
	// config file.
	DSNEnv string `json:"dsnEnv,omitempty"`
	// Table receives the events (default "events"); created if missing.
	Table string `json:"table,omitempty"`
	// IAMAuth signs in with an RDS IAM authentication token instead of a
	// password: a SigV4-presigned "connect" request for the DSN's host, port
	// and user, built from the pod's AWS credentials for every new
	// connection (tokens live 15 minutes), so no password sits in a Secret.
	// The DSN then holds no secret (host, port, user, dbname, sslmode) and
	// must verify the server's certificate (sslmode=verify-full or
	// verify-ca with the RDS CA bundle as sslrootcert): the token is sent
	// as a clear-text password inside TLS. The database user needs
	// `GRANT rds_iam`, the pod's role `rds-db:connect` on it.
	IAMAuth bool `json:"iamAuth,omitempty"`
	// Region of the database for IAM tokens (default: the consumer's AWS
	// region).
	Region string `json:"region,omitempty"`
}

// SQLAuth is what IAM authentication signs tokens with.
type SQLAuth struct {
	Credentials aws.CredentialsProvider
	Region      string
}

// SQL inserts events into PostgreSQL (the RDS path) for relational queries:
// one row per event, keyed by (source, id) — INSERT ... ON CONFLICT DO
// NOTHING makes redeliveries harmless without an idempotency record.
type SQL struct {
	pool   *pgxpool.Pool
	insert string
}

var sqlIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// migration creates the table and its indexes; it is idempotent, but not
// safe against itself: two sessions running CREATE TABLE IF NOT EXISTS at
// once can both find no table, and the second then fails on pg_type's
// unique index. NewSQL therefore runs it in a transaction holding an
// advisory lock keyed on the table, so replicas that start together (KEDA
// scaling from zero) migrate one after the other.
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

// migrationLock serialises migrations of one table across sessions; the
// transaction-scoped lock is released at commit or rollback, also when the
// session dies.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtext('eventplane.sql.migrate.' || $1))`

// NewSQL connects, runs the table's migration and returns the handler; auth
// is used only with opt.IAMAuth.
func NewSQL(ctx context.Context, dsn string, opt SQLOptions, auth SQLAuth) (*SQL, error) {
	if opt.Table == "" {
		opt.Table = "events"
	}
	if !sqlIdent.MatchString(opt.Table) {
		return nil, fmt.Errorf("options.table: %q is not a lower-case SQL identifier", opt.Table)
	}
	if dsn == "" {
		return nil, errors.New("sql: empty PostgreSQL DSN")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	if opt.IAMAuth {
		if err := useIAMAuth(cfg, opt, auth); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pgx.BeginFunc(mctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(mctx, migrationLock, opt.Table); err != nil {
			return err
		}
		_, err := tx.Exec(mctx, fmt.Sprintf(migration, opt.Table))
		return err
	}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sql: migrate table %s: %w", opt.Table, err)
	}
	return &SQL{pool: pool, insert: fmt.Sprintf(
		`INSERT INTO %s (source, id, type, subject, time, data) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, id) DO NOTHING`, opt.Table)}, nil
}

// useIAMAuth makes every new connection of cfg sign in with a fresh RDS IAM
// token; it refuses a DSN that would send the token without verified TLS.
func useIAMAuth(cfg *pgxpool.Config, opt SQLOptions, auth SQLAuth) error {
	cc := cfg.ConnConfig
	if cc.Password != "" {
		return errors.New("sql: options.iamAuth is set but the DSN carries a password: drop it (the token is the password)")
	}
	tlsConfigs := []*tls.Config{cc.TLSConfig}
	for _, f := range cc.Fallbacks {
		tlsConfigs = append(tlsConfigs, f.TLSConfig)
	}
	for _, t := range tlsConfigs {
		// pgx leaves TLS nil for sslmode=disable (and the plain fallback of
		// allow/prefer), skips verification for require, and verifies
		// itself (VerifyPeerCertificate) for verify-ca.
		if t == nil || t.InsecureSkipVerify && t.VerifyPeerCertificate == nil {
			return errors.New("sql: options.iamAuth needs sslmode=verify-full (or verify-ca) in the DSN: the token must not travel unencrypted or to an unverified server")
		}
	}
	region := opt.Region
	if region == "" {
		region = auth.Region
	}
	if region == "" || auth.Credentials == nil {
		return errors.New("sql: options.iamAuth needs AWS credentials and a region (options.region or the consumer's AWS region)")
	}
	cfg.BeforeConnect = func(ctx context.Context, c *pgx.ConnConfig) error {
		endpoint := net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
		token, err := rdsauth.BuildAuthToken(ctx, endpoint, region, c.User, auth.Credentials)
		if err != nil {
			return fmt.Errorf("sql: RDS IAM token for %s@%s: %w", c.User, endpoint, err)
		}
		c.Password = token
		return nil
	}
	return nil
}

func newSQL(ctx context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
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
	return NewSQL(ctx, dsn, o, SQLAuth{Credentials: deps.Credentials, Region: deps.Region})
}

// ManagesDuplicates marks SQL as idempotent by its primary key.
func (s *SQL) ManagesDuplicates() {}

// Close releases the connection pool; it is an io.Closer, which the engine
// closes at shutdown once the last Handle returned.
func (s *SQL) Close() error {
	s.pool.Close()
	return nil
}

// Handle implements delivery.Handler.
func (s *SQL) Handle(ctx context.Context, e *ce.Event) error {
	var data any
	if len(e.Data()) > 0 {
		if e.DataMediaType() == "application/json" {
			if !json.Valid(e.Data()) {
				return delivery.Permanentf("sql: data of event %s is not valid JSON", e.ID())
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
