package sqs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/sqs"
)

// losesFirstDeleteResponse forwards to moto, but drops the connection after
// moto applied the first DeleteMessageBatch, as a network blip after the
// request reached SQS does: the SDK retries a delete that already took effect.
func losesFirstDeleteResponse(t *testing.T, target string) (string, *atomic.Int32) {
	var deletes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DeleteMessageBatch") {
			switch deletes.Add(1) {
			case 1:
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			case 2:
				// moto accepts a second delete of the same receipts; SQS-compatible
				// servers such as ElasticMQ answer the retry as below (seen with
				// aws-sdk-go-v2 against ElasticMQ 1.7.1).
				var in struct{ Entries []struct{ Id string } }
				_ = json.Unmarshal(body, &in)
				var failed []string
				for _, en := range in.Entries {
					failed = append(failed, fmt.Sprintf(`{"Id":%q,"SenderFault":true,"Code":"ReceiptHandleIsInvalid","Message":"The receipt handle is not valid"}`, en.Id))
				}
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				fmt.Fprintf(w, `{"Successful":[],"Failed":[%s]}`, strings.Join(failed, ","))
				return
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out) // the client sees a short body if this fails
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &deletes
}

// A DeleteMessageBatch whose response was lost is retried by the SDK; the
// retry's ReceiptHandleIsInvalid for entries the first attempt deleted means
// settled, not a failure to report ("delete failed; messages will be
// redelivered" was logged at ERROR for messages that were gone).
func TestDeleteRetriedAfterItTookEffectIsSettled(t *testing.T) {
	e := newQueue(t, false, 30, 5)
	e.send(3, nil)
	proxy, deletes := losesFirstDeleteResponse(t, motoserver.Shared(t).Endpoint)
	cfg := motoserver.Shared(t).Config()
	cfg.BaseEndpoint = aws.String(proxy)
	ctx := context.Background()
	src, err := sqs.New(ctx, awssqs.NewFromConfig(cfg), sqs.Config{QueueURL: e.url, WaitTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var receipts []string
	for len(receipts) < 3 {
		msgs, err := src.Receive(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			receipts = append(receipts, m.Receipt)
		}
	}
	err = src.Delete(ctx, receipts)
	t.Logf("delete attempts %d, result %v", deletes.Load(), err)
	if deletes.Load() < 2 {
		t.Fatalf("the SDK did not retry the delete whose response was lost (%d attempts)", deletes.Load())
	}
	if err != nil {
		t.Fatalf("Delete = %v; want nil: the retry found the messages already deleted", err)
	}
	if got := src.SettledOnRetry(); got != 3 {
		t.Errorf("SettledOnRetry = %d, want 3", got)
	}
}
