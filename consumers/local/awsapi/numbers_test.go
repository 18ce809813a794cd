package awsapi_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// In DynamoDB a number is its value: "leading and trailing zeroes are
// trimmed" (the developer guide's Number data type), so "1", "1.0", "01"
// and "1e0" are one key — one item — and GetItem returns the number as
// DynamoDB keeps it: "1" (likewise "1.5E2" comes back as "150", "-0" as "0").
func TestDynamoDBNumberKeysAreTheirValue(t *testing.T) {
	s := start(t, "testdata/numbers.yaml")
	c := dynamo(s)
	tbl := aws.String("local-counters")
	for _, n := range []string{"1", "1.0", "01", "1e0"} {
		if _, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: tbl, Item: item{"id": num(n), "as": str(n), "price": num("12.50")}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.Scan(ctx(t), &dynamodb.ScanInput{TableName: tbl})
	if err != nil || all.Count != 1 {
		t.Fatalf("%d items after putting 1, 1.0, 01 and 1e0 (%v), want one: the number 1", all.Count, err)
	}
	got, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: tbl, Key: item{"id": num("1.000")}})
	if err != nil || got.Item == nil {
		t.Fatalf("GetItem 1.000: %v %v, want the item of 1", got.Item, err)
	}
	if n, as, price := got.Item["id"].(*ddb.AttributeValueMemberN).Value, got.Item["as"].(*ddb.AttributeValueMemberS).Value,
		got.Item["price"].(*ddb.AttributeValueMemberN).Value; n != "1" || as != "1e0" || price != "12.5" {
		t.Errorf("item n=%q as=%q price=%q, want n \"1\" (trimmed), the last put (1e0) and price \"12.5\"", n, as, price)
	}
	for in, want := range map[string]string{"1.5E2": "150", "-0": "0", "-0.0250": "-0.025", "00042": "42", "1e-3": "0.001"} {
		if _, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: tbl, Item: item{"id": num(in)}}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: tbl, Key: item{"id": num(want)}})
		if err != nil || got.Item == nil || got.Item["id"].(*ddb.AttributeValueMemberN).Value != want {
			t.Errorf("put %s, GetItem %s: %v %v, want the item with n %q", in, want, got.Item, err, want)
		}
	}
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: tbl, Item: item{"id": num("1.0")}, ConditionExpression: aws.String("attribute_not_exists(id)")})
	if ccf := (*ddb.ConditionalCheckFailedException)(nil); !errors.As(err, &ccf) {
		t.Errorf("PutItem 1.0 if absent: %v, want ConditionalCheckFailedException (1 exists)", err)
	}
	_, err = c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"local-counters": {
		{PutRequest: &ddb.PutRequest{Item: item{"id": num("3")}}}, {PutRequest: &ddb.PutRequest{Item: item{"id": num("3.0")}}}}}})
	wantValidation(t, "BatchWriteItem of 3 and 3.0", err, "duplicates")
	if _, err := c.DeleteItem(ctx(t), &dynamodb.DeleteItemInput{TableName: tbl, Key: item{"id": num("10e-1")}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: tbl, Key: item{"id": num("1")}}); got.Item != nil {
		t.Errorf("item 1 still there after DeleteItem 10e-1: %v", got.Item)
	}
}

// A numeric sort key orders and identifies items by value: 1E1 replaces
// 10, the partition comes back -1, 0.5, 2, 10, 100 (not as strings sort),
// a key condition on 10.0 finds 10, and paging from ExclusiveStartKey
// 2.00 goes on after 2.
func TestDynamoDBNumericSortKeyOrdersByValue(t *testing.T) {
	s := start(t, "testdata/numbers.yaml")
	c := dynamo(s)
	tbl := aws.String("local-readings")
	for _, at := range []string{"10", "2", "1E2", "-1", "0.50", "1E1"} {
		if _, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: tbl, Item: item{"device": str("d"), "at": num(at)}}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("device = :d"), ExpressionAttributeValues: item{":d": str("d")}})
	if err != nil || !slices.Equal(ats(q.Items), []string{"-1", "0.5", "2", "10", "100"}) {
		t.Errorf("Query: %v %v, want -1 0.5 2 10 100 (1E1 is 10)", ats(q.Items), err)
	}
	eq, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("device = :d AND #at = :at"),
		ExpressionAttributeNames: map[string]string{"#at": "at"}, ExpressionAttributeValues: item{":d": str("d"), ":at": num("10.0")}})
	if err != nil || !slices.Equal(ats(eq.Items), []string{"10"}) {
		t.Errorf("Query at = 10.0: %v %v, want 10", ats(eq.Items), err)
	}
	next, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("device = :d"), ExpressionAttributeValues: item{":d": str("d")},
		ExclusiveStartKey: item{"device": str("d"), "at": num("2.00")}})
	if err != nil || !slices.Equal(ats(next.Items), []string{"10", "100"}) {
		t.Errorf("Query after 2.00: %v %v, want 10 100", ats(next.Items), err)
	}
	got, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: tbl, Key: item{"device": str("d"), "at": num("100.0")}})
	if err != nil || got.Item == nil {
		t.Errorf("GetItem at 100.0: %v %v, want the item put as 1E2", got.Item, err)
	}
}
