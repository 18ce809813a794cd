package handlers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
)

// rdsIAMFront stands in front of a real PostgreSQL the way RDS does for a
// user granted rds_iam: TLS only, a clear-text password request, and the
// password must be an IAM token — a SigV4-presigned GET of
// https://<host:port>/?Action=connect&DBUser=<user> for service "rds-db",
// valid X-Amz-Expires=900 seconds — signed with the role's credentials.
// It checks the signature by signing the same request again with the same
// date, then hands the session to the real server.
type rdsIAMFront struct {
	addr, region string
	creds        aws.Credentials
	upstream     string // host:port of the real server
	tls          *tls.Config
	caFile       string
	accepted     atomic.Int32
	rejected     atomic.Int32
	conns        atomic.Int32
}

func startRDSIAMFront(t *testing.T, upstreamDSN, region string, creds aws.Credentials) *rdsIAMFront {
	t.Helper()
	u, err := url.Parse(upstreamDSN)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &rdsIAMFront{addr: ln.Addr().String(), region: region, creds: creds, upstream: u.Host}
	f.tls, f.caFile = selfSignedTLS(t)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *rdsIAMFront) serve(raw net.Conn) {
	defer raw.Close()
	be := pgproto3.NewBackend(raw, raw)
	msg, err := be.ReceiveStartupMessage()
	for err == nil {
		if _, ok := msg.(*pgproto3.GSSEncRequest); !ok {
			break
		}
		_, _ = raw.Write([]byte("N"))
		msg, err = be.ReceiveStartupMessage()
	}
	if err != nil {
		return
	}
	if _, ok := msg.(*pgproto3.SSLRequest); !ok {
		f.rejected.Add(1) // rds.force_ssl: no clear-text sessions
		return
	}
	_, _ = raw.Write([]byte("S"))
	conn := tls.Server(raw, f.tls)
	be = pgproto3.NewBackend(conn, conn)
	if msg, err = be.ReceiveStartupMessage(); err != nil {
		return
	}
	sm, ok := msg.(*pgproto3.StartupMessage)
	if !ok {
		return
	}
	be.Send(&pgproto3.AuthenticationCleartextPassword{})
	if err := be.Flush(); err != nil {
		return
	}
	_ = be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
	msg, err = be.Receive()
	if err != nil {
		return
	}
	pw, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return
	}
	if err := f.verify(pw.Password, sm.Parameters["user"]); err != nil {
		f.rejected.Add(1)
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28000", Message: "PAM authentication failed for user \"" + sm.Parameters["user"] + "\": " + err.Error()})
		_ = be.Flush()
		return
	}
	f.accepted.Add(1)
	up, err := net.Dial("tcp", f.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	fe := pgproto3.NewFrontend(up, up)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": sm.Parameters["user"], "database": sm.Parameters["database"]}})
	if err := fe.Flush(); err != nil {
		return
	}
	for { // the real server's AuthenticationOk, parameters, key data: on to the client
		bm, err := fe.Receive()
		if err != nil {
			return
		}
		be.Send(bm)
		if _, ok := bm.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if err := be.Flush(); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
}

// verify checks an IAM token as RDS would: for this endpoint and user,
// Action=connect, unexpired, and signed with the expected key.
func (f *rdsIAMFront) verify(token, user string) error {
	u, err := url.Parse("https://" + token)
	if err != nil {
		return err
	}
	q := u.Query()
	if u.Host != f.addr || q.Get("Action") != "connect" || q.Get("DBUser") != user {
		return fmt.Errorf("token for %s %s %s, want %s connect %s", u.Host, q.Get("Action"), q.Get("DBUser"), f.addr, user)
	}
	at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	if q.Get("X-Amz-Expires") != "900" || time.Since(at) > 15*time.Minute {
		return errors.New("token expired")
	}
	want := fmt.Sprintf("%s/%s/%s/rds-db/aws4_request", f.creds.AccessKeyID, at.Format("20060102"), f.region)
	if q.Get("X-Amz-Credential") != want {
		return fmt.Errorf("credential scope %q, want %q", q.Get("X-Amz-Credential"), want)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://"+f.addr+"/?"+url.Values{"Action": {"connect"}, "DBUser": {user}, "X-Amz-Expires": {"900"}}.Encode(), nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), f.creds, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "rds-db", f.region, at)
	if err != nil {
		return err
	}
	su, _ := url.Parse(signed)
	if su.Query().Get("X-Amz-Signature") != q.Get("X-Amz-Signature") {
		return errors.New("signature does not match")
	}
	return nil
}

func selfSignedTLS(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rds-test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "rds-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, ca
}

// With iamAuth the DSN carries no password: every connection signs in with
// a fresh IAM token, and events land in the database.
func TestSQLSignsInWithRDSIAMToken(t *testing.T) {
	pg := pgserver.Shared(t)
	ctx := context.Background()
	role := aws.Credentials{AccessKeyID: "AKIAPODROLE", SecretAccessKey: "pod-role-secret", SessionToken: "session"}
	front := startRDSIAMFront(t, pg.DSN, "eu-west-1", role)
	dsn := fmt.Sprintf("host=127.0.0.1 port=%s user=eventplane dbname=postgres sslmode=verify-full sslrootcert=%s",
		front.addr[strings.LastIndexByte(front.addr, ':')+1:], front.caFile)

	s, err := NewSQL(ctx, dsn, SQLOptions{Table: "iam_events", IAMAuth: true},
		SQLAuth{Credentials: credentials.StaticCredentialsProvider{Value: role}, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := s.Handle(ctx, order("iam-1", 3, time.Now())); err != nil {
		t.Fatal(err)
	}
	conn := pg.Connect(t)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM iam_events WHERE id = 'iam-1'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("row through the IAM session: %d, %v", n, err)
	}
	if front.accepted.Load() == 0 || front.rejected.Load() != 0 {
		t.Fatalf("tokens accepted %d, rejected %d", front.accepted.Load(), front.rejected.Load())
	}

	// Signed with another key: RDS refuses the token, the handler does not start.
	other := SQLAuth{Credentials: credentials.NewStaticCredentialsProvider("AKIAPODROLE", "not-the-secret", "session"), Region: "eu-west-1"}
	if _, err := NewSQL(ctx, dsn, SQLOptions{Table: "iam_events", IAMAuth: true}, other); err == nil || !strings.Contains(err.Error(), "PAM authentication failed") {
		t.Fatalf("token signed with the wrong key: %v", err)
	}
}

// The token is a password valid for 15 minutes: it is never sent without
// TLS that verifies the server, and a DSN password is not mixed in.
func TestSQLIAMAuthRefusesUnverifiedTLS(t *testing.T) {
	front := startRDSIAMFront(t, "postgres://unused@127.0.0.1:1/x", "eu-west-1", aws.Credentials{AccessKeyID: "A", SecretAccessKey: "S"})
	auth := SQLAuth{Credentials: credentials.NewStaticCredentialsProvider("A", "S", ""), Region: "eu-west-1"}
	port := front.addr[strings.LastIndexByte(front.addr, ':')+1:]
	for _, tc := range []struct{ dsn, wantErr string }{
		{"host=127.0.0.1 port=" + port + " user=u dbname=d sslmode=disable", "verify-full"},
		{"host=127.0.0.1 port=" + port + " user=u dbname=d sslmode=prefer", "verify-full"},
		{"host=127.0.0.1 port=" + port + " user=u dbname=d sslmode=require", "verify-full"},
		{"host=127.0.0.1 port=" + port + " user=u dbname=d", "verify-full"}, // pgx's default is prefer
		{"host=127.0.0.1 port=" + port + " user=u password=p dbname=d sslmode=verify-full sslrootcert=" + front.caFile, "carries a password"},
	} {
		_, err := NewSQL(context.Background(), tc.dsn, SQLOptions{IAMAuth: true}, auth)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: %v, want %q", tc.dsn, err, tc.wantErr)
		}
	}
	if _, err := NewSQL(context.Background(), "host=127.0.0.1 port="+port+" user=u dbname=d sslmode=verify-full sslrootcert="+front.caFile,
		SQLOptions{IAMAuth: true}, SQLAuth{}); err == nil || !strings.Contains(err.Error(), "credentials and a region") {
		t.Errorf("no credentials: %v", err)
	}
	if n := front.conns.Load(); n != 0 {
		t.Fatalf("%d connections reached the server; refused DSNs must not connect", n)
	}
}
