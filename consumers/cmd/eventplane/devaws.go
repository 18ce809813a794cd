package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/local/awsapi"
)

// awsServer is the listener of the AWS APIs of eventplane dev.
type awsServer struct {
	Addr string
	srv  *http.Server
}

// Close stops it (long polls in progress end with the request context).
func (a *awsServer) Close() { _ = a.srv.Close() }

// serveAWS serves SQS, EventBridge, SNS, DynamoDB and S3 over the platform on addr;
// a serve error goes to served.
func serveAWS(ctx context.Context, addr string, p *local.Platform, log *slog.Logger, served chan<- error) (*awsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w (another eventplane dev or LocalStack running? use --aws-addr)", addr, err)
	}
	srv := &http.Server{Handler: awsapi.New(p.AWS(), log), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			select {
			case served <- err:
			default:
			}
		}
	}()
	return &awsServer{Addr: ln.Addr().String(), srv: srv}, nil
}

// awsHint is the endpoint line of eventplane dev's banner: what to export
// for the aws CLI and the SDKs (credentials are accepted, not checked), and
// how to address S3 buckets (path style, as for any S3 emulator, or
// BUCKET.localhost). The region is "local", the region of the local ARNs:
// in any AWS region the aws CLI v1 ignores AWS_ENDPOINT_URL for sqs
// (awscli/customizations/overridesslcommonname.py).
func awsHint(url string) string {
	return url + "   (SQS, EventBridge, SNS, DynamoDB, S3; credentials are accepted, not checked)\n" +
		"              export AWS_ENDPOINT_URL=" + url + " AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=local\n" +
		"              S3 buckets path-style: aws configure set default.s3.addressing_style path; SDKs UsePathStyle / forcePathStyle"
}
