package awsconf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// blackHole accepts requests and never answers them until the test ends: a
// hung sink, as a DynamoDB endpoint behind a broken network path looks.
func blackHole(t *testing.T) string {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL
}

func env(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_CA_BUNDLE", "")
}

// A call to a hung endpoint must fail after its attempts time out, by
// default, so that a hung sink trips the breaker like a failing one instead
// of holding every slot until the handler timeout (5 minutes).
func TestHungEndpointFailsWithinTheDefaultAttemptTimeouts(t *testing.T) {
	env(t)
	cfg, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: blackHole(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	took := time.Since(start)
	if err == nil || ctx.Err() != nil || took > 20*time.Second {
		t.Fatalf("call to a hung endpoint returned after %v with %v (outer context: %v); want an attempt-timeout error well within 20s", took, err, ctx.Err())
	}
	t.Logf("failed after %v: %v", took.Round(time.Millisecond), err)
}

// The attempt timeout is per attempt and configurable; a long poll's own
// wait is added to it, so a 20 s receive is not cut short.
func TestAttemptTimeoutIsPerAttemptAndSparesLongPolls(t *testing.T) {
	env(t)
	url := blackHole(t)
	cfg, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: url, AttemptTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.RetryMaxAttempts = 2 })
	start := time.Now()
	_, err = c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Fatalf("2 attempts of 200ms took %v (err %v)", took, err)
	}
	start = time.Now()
	_, err = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url + "/123/q"), WaitTimeSeconds: 1})
	if took := time.Since(start); err == nil || took < 2*time.Second {
		t.Fatalf("a 1 s long poll with 200ms attempts gave up after %v (err %v); want each attempt to wait 1.2 s", took, err)
	}
}
