package handlers

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	ce "github.com/cloudevents/sdk-go/v2/event"

	"github.com/eventplane/eventplane/consumers/awsconf"
	"github.com/eventplane/eventplane/consumers/delivery"
	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	motoserver.StopShared()
	pgserver.StopShared()
	os.Exit(code)
}

func order(id string, total float64, at time.Time) *ce.Event {
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetSource("shop")
	e.SetType("io.eventplane.demo.order.placed.v1")
	e.SetTime(at)
	_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"orderId": "o-1", "customerId": "c-9", "total": total})
	return &e
}

func TestStoreWritesLatestStateOnce(t *testing.T) {
	cfg := motoserver.Shared(t).Config()
	var puts atomic.Int32
	cfg.APIOptions = append(cfg.APIOptions, awsconf.CountRequests(func(_, api string) {
		if api == "PutItem" {
			puts.Add(1)
		}
	}))
	client := dynamodb.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("orders-store"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(client, StoreOptions{Table: "orders-store", Key: map[string]string{"pk": "order#{{data.orderId}}", "sk": "state"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	if err := s.Handle(ctx, order("e1", 10, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, order("e1", 10, t0)); !errors.Is(err, delivery.ErrSkip) {
		t.Fatalf("duplicate: %v, want ErrSkip", err)
	}
	if err := s.Handle(ctx, order("e2", 20, t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, order("e0", 5, t0.Add(-time.Minute))); !errors.Is(err, delivery.ErrSkip) {
		t.Fatalf("stale event: %v, want ErrSkip", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders-store"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "order#o-1"}, "sk": &types.AttributeValueMemberS{Value: "state"}}})
	if err != nil {
		t.Fatal(err)
	}
	if id := out.Item["eventId"].(*types.AttributeValueMemberS).Value; id != "e2" {
		t.Fatalf("item holds event %s, want the newest e2", id)
	}
	if total := out.Item["total"].(*types.AttributeValueMemberN).Value; total != "20" {
		t.Fatalf("total = %s", total)
	}
	if n := puts.Load(); n != 4 {
		t.Fatalf("%d PutItem calls for 4 deliveries: want exactly one write per event, idempotency folded in", n)
	}
	bad := order("e3", 1, t0)
	_ = bad.SetData(cloudevents.ApplicationJSON, map[string]any{"customerId": "c-9"})
	if err := s.Handle(ctx, bad); !delivery.IsPermanent(err) {
		t.Fatalf("missing key field: %v, want a permanent error", err)
	}
}

func TestStoreOptionsAreChecked(t *testing.T) {
	for _, o := range []StoreOptions{{}, {Table: "t"}, {Table: "t", Key: map[string]string{"pk": "{{data.x"}}, {Table: "t", Key: map[string]string{"pk": "x"}, Version: "seq"}} {
		if _, err := NewStore(nil, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// discardPuts is a StoreAPI that keeps nothing: the store handler's own
// cost, without a table.
type discardPuts struct{}

func (discardPuts) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

// BenchmarkStoreHandle is the store handler's work for one order event of
// the local platform's benchmark (item, key templates, request), the
// table's write left out.
func BenchmarkStoreHandle(b *testing.B) {
	s, err := NewStore(discardPuts{}, StoreOptions{Table: "orders-store", Key: map[string]string{"pk": "order#{{data.orderId}}", "sk": "state"}})
	if err != nil {
		b.Fatal(err)
	}
	e := cloudevents.NewEvent()
	e.SetID("b-40000-17")
	e.SetSource("shop")
	e.SetType("io.eventplane.demo.order.placed.v1")
	e.SetTime(time.Date(2026, 11, 26, 17, 10, 0, 0, time.UTC))
	e.DataEncoded = []byte(`{"orderId":"b-40000-17","customerId":"c-1","currency":"EUR","total":10,"items":[{"sku":"a","quantity":1,"price":10}]}`)
	e.SetDataContentType(cloudevents.ApplicationJSON)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Handle(ctx, &e); err != nil {
			b.Fatal(err)
		}
	}
}
