package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventplane/eventplane/consumers/topology"
)

// The store as the platform's handlers call it (the AWS API tests in
// awsapi drive the same through the wire).

func openKV(t *testing.T) *Tables {
	t.Helper()
	tb, err := OpenTables(filepath.Join(t.TempDir(), "tables.db"), []topology.Table{{Name: "kv", HashKey: topology.Key{Name: "id", Type: "S"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.Close() })
	return tb
}

func isValidation(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException"
}

// DynamoDB checks a whole BatchWriteItem before writing: a bad request in
// it rejects the batch, and so does a 26th request.
func TestBatchWriteItemRefusesTheWholeBatch(t *testing.T) {
	tb := openKV(t)
	ctx := context.Background()
	_, err := tb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"kv": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "good"}}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"other": &types.AttributeValueMemberS{Value: "no key"}}}},
	}}})
	if !isValidation(err) {
		t.Errorf("batch with an item without its key: %v, want ValidationException", err)
	}
	if n := tb.Count()["kv"]; n != 0 {
		t.Errorf("a refused batch wrote %d items", n)
	}
	var reqs []types.WriteRequest
	for i := range 26 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}}}})
	}
	if _, err := tb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"kv": reqs}}); !isValidation(err) {
		t.Errorf("batch of 26: %v, want ValidationException", err)
	}
}

// Scan pages by Limit with LastEvaluatedKey, as the aggregate handler's
// loop expects of DynamoDB.
func TestScanPagesByLimit(t *testing.T) {
	tb := openKV(t)
	ctx := context.Background()
	for i := range 5 {
		if _, err := tb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("kv"), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	in := &dynamodb.ScanInput{TableName: aws.String("kv"), Limit: aws.Int32(2)}
	var sizes []int
	for {
		out, err := tb.Scan(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.Items))
		if out.LastEvaluatedKey == nil || len(sizes) > 5 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("pages of a scan by 2 over 5 items: %v, want [2 2 1]", sizes)
	}
}

// A key of another type than the table's is refused as DynamoDB refuses
// it, not stored under a key no GetItem of the right type finds.
func TestKeyOfTheWrongTypeIsRefused(t *testing.T) {
	tb := openKV(t)
	_, err := tb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("kv"), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberN{Value: "1"}}})
	if !isValidation(err) {
		t.Errorf("PutItem with an N key on an S table: %v, want ValidationException", err)
	}
}

// An operator the store does not evaluate is refused by name, also when
// the attribute it compares is missing (DynamoDB's IN and BETWEEN in a
// condition).
func TestUnsupportedOperatorIsNamedOnAMissingAttribute(t *testing.T) {
	env := exprEnv{values: map[string]types.AttributeValue{":a": &types.AttributeValueMemberS{Value: "x"}, ":b": &types.AttributeValueMemberS{Value: "y"}}}
	for expr, op := range map[string]string{"missing IN (:a, :b)": "IN", "missing BETWEEN :a AND :b": "BETWEEN"} {
		_, err := evalCondition(expr, map[string]types.AttributeValue{}, env)
		if err == nil || !strings.Contains(err.Error(), `operator "`+op+`"`) {
			t.Errorf("%s: %v, want an error naming the operator %s", expr, err, op)
		}
	}
}
