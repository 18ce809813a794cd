package bootstrap

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/topology"
)

// operations counts the AWS operations a client sends, by name.
type operations struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *operations) get(name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[name]
}

func (o *operations) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n = map[string]int{}
}

func countingClients(t *testing.T) (Clients, *operations) {
	t.Helper()
	ops := &operations{n: map[string]int{}}
	cfg := motoserver.Shared(t).Config()
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countOperations",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ops.mu.Lock()
				ops.n[awsmiddleware.GetOperationName(ctx)]++
				ops.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return NewClients(cfg), ops
}

func ttlTopology(attr string) *topology.Topology {
	return &topology.Topology{Tables: []topology.Table{{Name: "sessions",
		HashKey: topology.Key{Name: "pk", Type: "S"}, TTLAttribute: attr}}}
}

// DynamoDB answers UpdateTimeToLive on a table whose TTL is already on, and
// any second change within an hour of the first, with a ValidationException
// (UpdateTimeToLive API reference). A second bootstrap run must therefore
// read the TTL state and leave an enabled TTL alone, not send the update and
// guess from the error text.
func TestApplyLeavesAnEnabledTTLAlone(t *testing.T) {
	c, ops := countingClients(t)
	ctx := context.Background()
	if _, err := Apply(ctx, c, ttlTopology("expiresAt"), "ttl1"); err != nil {
		t.Fatal(err)
	}
	if n := ops.get("UpdateTimeToLive"); n != 1 {
		t.Fatalf("first run sent %d UpdateTimeToLive, want 1", n)
	}
	ops.reset()
	if _, err := Apply(ctx, c, ttlTopology("expiresAt"), "ttl1"); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n := ops.get("UpdateTimeToLive"); n != 0 {
		t.Fatalf("second run sent %d UpdateTimeToLive for a TTL already on the attribute, want 0 (DynamoDB refuses it with a ValidationException)", n)
	}
	d, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("ttl1-sessions")})
	if err != nil {
		t.Fatal(err)
	}
	if d.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.TimeToLiveDescription.AttributeName) != "expiresAt" {
		t.Fatalf("TTL %+v, want ENABLED on expiresAt", d.TimeToLiveDescription)
	}
}

// DynamoDB changes a TTL attribute only by turning TTL off and on again
// (with an hour between changes): bootstrap must not do that by itself, nor
// silently keep the old attribute. It stops with an error naming both.
func TestApplyRefusesToMoveTTLToAnotherAttribute(t *testing.T) {
	c, _ := countingClients(t)
	ctx := context.Background()
	if _, err := Apply(ctx, c, ttlTopology("expiresAt"), "ttl2"); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(ctx, c, ttlTopology("deleteAfter"), "ttl2")
	if err == nil || !strings.Contains(err.Error(), `"expiresAt"`) || !strings.Contains(err.Error(), `"deleteAfter"`) || !strings.Contains(err.Error(), "sessions") {
		t.Fatalf("err = %v, want an error naming the table and both attributes", err)
	}
	d, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("ttl2-sessions")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(d.TimeToLiveDescription.AttributeName); got != "expiresAt" {
		t.Fatalf("TTL attribute %q: the table's TTL was changed", got)
	}
}
