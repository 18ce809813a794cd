package awsconf

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventplane/eventplane/consumers/internal/testenv/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Main(m)) }

// Each AWS call's client span carries its own service's attributes only
// (otelaws' builders by service id): an SQS call is messaging.system
// aws_sqs with its queue as server.address and no db.system.name; a
// DynamoDB call is db.system.name aws.dynamodb with no messaging.system.
func TestCallSpansCarryTheirOwnServicesAttributes(t *testing.T) {
	env(t)
	moto := motoserver.Shared(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	cfg, err := Load(context.Background(), Options{Region: motoserver.Region, Endpoint: moto.Endpoint, Tracer: tp})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("spans")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	_, _ = dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), // ResourceNotFound: still a span
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "1"}}})
	want := map[string]map[string]string{
		"SQS.ReceiveMessage": {"messaging.system": "aws_sqs", "server.address": aws.ToString(q.QueueUrl), "rpc.method": "SQS/ReceiveMessage", "db.system.name": ""},
		"DynamoDB.GetItem":   {"db.system.name": "aws.dynamodb", "aws.dynamodb.table_names": `["missing"]`, "messaging.system": ""},
	}
	seen := 0
	for _, s := range rec.Ended() {
		w, ok := want[s.Name()]
		if !ok {
			continue
		}
		seen++
		got := map[string]string{}
		for _, a := range s.Attributes() {
			got[string(a.Key)] = a.Value.String()
		}
		for k, v := range w {
			if got[k] != v {
				t.Errorf("span %s: %s = %q, want %q (attributes %v)", s.Name(), k, got[k], v, got)
			}
		}
	}
	if seen != len(want) {
		t.Fatalf("saw %d of the spans %v", seen, want)
	}
}
