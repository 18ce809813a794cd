package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	bolt "go.etcd.io/bbolt"

	"github.com/eventplane/eventplane/consumers/topology"
)

// keysInFile counts a table's items by walking the file (what Count did).
func keysInFile(t *testing.T, tb *Tables, table string) int {
	t.Helper()
	n := 0
	if err := tb.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(table)).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Count follows every committed write — new items, overwrites, refused
// conditions, deletes of present and absent items, batches, concurrent
// writers coalesced into one transaction — and survives a reopen.
func TestCountFollowsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	tables := []topology.Table{{Name: "kv", HashKey: topology.Key{Name: "pk", Type: "S"}}}
	tb, err := OpenTables(path, tables)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	put := func(pk, cond string) error {
		in := &dynamodb.PutItemInput{TableName: aws.String("kv"), Item: map[string]types.AttributeValue{"pk": s(pk)}}
		if cond != "" {
			in.ConditionExpression = aws.String(cond)
		}
		_, err := tb.PutItem(ctx, in)
		return err
	}
	check := func(step string, want int) {
		t.Helper()
		if got, file := tb.Count()["kv"], keysInFile(t, tb, "kv"); got != want || file != want {
			t.Fatalf("%s: Count = %d, file holds %d, want %d", step, got, file, want)
		}
	}
	check("empty", 0)
	if err := put("a", ""); err != nil {
		t.Fatal(err)
	}
	check("one put", 1)
	if err := put("a", ""); err != nil {
		t.Fatal(err)
	}
	check("overwrite", 1)
	var ccf *types.ConditionalCheckFailedException
	if err := put("a", "attribute_not_exists(pk)"); !errors.As(err, &ccf) {
		t.Fatalf("conditional put of a present item: %v", err)
	}
	check("refused condition", 1)
	if _, err := tb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("kv"), Key: map[string]types.AttributeValue{"pk": s("zz")}}); err != nil {
		t.Fatal(err)
	}
	check("delete of an absent item", 1)
	if _, err := tb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"kv": {
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s("b")}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": s("c")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("a")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("nope")}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	check("batch", 2)
	var wg sync.WaitGroup
	for i := range 200 { // 100 keys, each written twice at once, some refused
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = put(fmt.Sprintf("k%d", i%100), "attribute_not_exists(pk)")
		}()
	}
	wg.Wait()
	check("concurrent writers", 102)
	if _, err := tb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("kv"), Key: map[string]types.AttributeValue{"pk": s("b")}}); err != nil {
		t.Fatal(err)
	}
	check("delete", 101)
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if tb, err = OpenTables(path, tables); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tb.Close(); err != nil {
			t.Error(err)
		}
	})
	check("reopened", 101)
}
