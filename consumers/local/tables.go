package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	bolt "go.etcd.io/bbolt"

	"github.com/eventplane/eventplane/consumers/local/ddbjson"
	"github.com/eventplane/eventplane/consumers/topology"
)

// Tables holds the topology's DynamoDB tables in one embedded database file
// (bbolt), with the operations the handlers and the idempotency store use:
// PutItem, GetItem, UpdateItem, DeleteItem (all with condition
// expressions), BatchWriteItem and Scan (with a filter expression). Items
// survive restarts.
type Tables struct {
	db   *bolt.DB
	keys map[string]topology.Table
}

// OpenTables opens (or creates) the database file for the given tables,
// which are addressed by their Name.
func OpenTables(path string, tables []topology.Table) (*Tables, error) {
	// No fsync per write: a local stack loses nothing when the process stops
	// or is killed (the writes are in the OS's page cache), only if the
	// machine itself crashes; Close syncs.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 0, NoFreelistSync: true, NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (is another eventplane dev using this folder?)", path, err)
	}
	db.MaxBatchDelay = time.Millisecond // a lone writer waits at most this long
	t := &Tables{db: db, keys: map[string]topology.Table{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, tb := range tables {
			t.keys[tb.Name] = tb
			if _, err := tx.CreateBucketIfNotExists([]byte(tb.Name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return t, nil
}

// Close syncs and closes the database file.
func (t *Tables) Close() error { return errors.Join(t.db.Sync(), t.db.Close()) }

// Count returns the number of items per table.
func (t *Tables) Count() map[string]int {
	out := map[string]int{}
	_ = t.db.View(func(tx *bolt.Tx) error {
		for name := range t.keys {
			if b := tx.Bucket([]byte(name)); b != nil {
				out[name] = b.Stats().KeyN
			}
		}
		return nil
	})
	return out
}

func (t *Tables) table(name *string) (topology.Table, error) {
	tb, ok := t.keys[aws.ToString(name)]
	if !ok {
		return tb, &types.ResourceNotFoundException{Message: aws.String(fmt.Sprintf("table %q is not in the topology", aws.ToString(name)))}
	}
	return tb, nil
}

// key encodes an item's primary key.
func (t *Tables) key(tb topology.Table, item map[string]types.AttributeValue) ([]byte, error) {
	part := func(k topology.Key) ([]byte, error) {
		switch v := item[k.Name].(type) {
		case *types.AttributeValueMemberS:
			return []byte(v.Value), nil
		case *types.AttributeValueMemberN:
			return []byte(v.Value), nil
		case *types.AttributeValueMemberB:
			return v.Value, nil
		}
		return nil, fmt.Errorf("table %s: key attribute %s is missing or not S, N or B", tb.Name, k.Name)
	}
	h, err := part(tb.HashKey)
	if err != nil {
		return nil, err
	}
	if tb.RangeKey == nil {
		return h, nil
	}
	r, err := part(*tb.RangeKey)
	if err != nil {
		return nil, err
	}
	return append(append(h, 0), r...), nil
}

func conditionFailed(old map[string]types.AttributeValue, rv types.ReturnValuesOnConditionCheckFailure) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld {
		e.Item = old
	}
	return e
}

// write runs fn on the stored item of key (nil if absent) in one
// transaction; fn returns the new item (nil deletes).
func (t *Tables) write(name *string, key map[string]types.AttributeValue, fn func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error)) error {
	tb, err := t.table(name)
	if err != nil {
		return err
	}
	k, err := t.key(tb, key)
	if err != nil {
		return err
	}
	// Batch coalesces concurrent writes (a consumer's in-flight events)
	// into one transaction; it may run fn again, which only reads and
	// writes this key.
	return t.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(tb.Name))
		var old map[string]types.AttributeValue
		if raw := b.Get(k); raw != nil {
			if old, err = decodeItem(raw); err != nil {
				return err
			}
		}
		item, err := fn(old)
		if err != nil {
			return err
		}
		if item == nil {
			return b.Delete(k)
		}
		raw, err := encodeItem(item)
		if err != nil {
			return err
		}
		return b.Put(k, raw)
	})
}

// conditional is the write of one item guarded by a condition expression:
// update computes the new item from the stored one (nil deletes).
type conditional struct {
	condition *string
	env       exprEnv
	onFailure types.ReturnValuesOnConditionCheckFailure
	update    func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error)
}

func (t *Tables) writeIf(table *string, key map[string]types.AttributeValue, c conditional) error {
	return t.write(table, key, func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		ok, err := evalCondition(aws.ToString(c.condition), orEmpty(old), c.env)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, conditionFailed(old, c.onFailure)
		}
		return c.update(old)
	})
}

// PutItem implements the DynamoDB operation.
func (t *Tables) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	err := t.writeIf(in.TableName, in.Item, conditional{condition: in.ConditionExpression,
		env:       exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues},
		onFailure: in.ReturnValuesOnConditionCheckFailure,
		update:    func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) { return in.Item, nil },
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemOutput{}, nil
}

// GetItem implements the DynamoDB operation.
func (t *Tables) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	tb, err := t.table(in.TableName)
	if err != nil {
		return nil, err
	}
	k, err := t.key(tb, in.Key)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.GetItemOutput{}
	err = t.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket([]byte(tb.Name)).Get(k); raw != nil {
			out.Item, err = decodeItem(raw)
		}
		return err
	})
	return out, err
}

// UpdateItem implements the DynamoDB operation (creating the item if absent).
func (t *Tables) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	env := exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	err := t.writeIf(in.TableName, in.Key, conditional{condition: in.ConditionExpression, env: env,
		onFailure: in.ReturnValuesOnConditionCheckFailure, update: func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			item := map[string]types.AttributeValue{}
			for k, v := range old {
				item[k] = v
			}
			for k, v := range in.Key {
				item[k] = v
			}
			return item, applyUpdate(aws.ToString(in.UpdateExpression), item, env)
		}})
	if err != nil {
		return nil, err
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

// DeleteItem implements the DynamoDB operation.
func (t *Tables) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	err := t.writeIf(in.TableName, in.Key, conditional{condition: in.ConditionExpression,
		env:       exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues},
		onFailure: in.ReturnValuesOnConditionCheckFailure,
		update:    func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) { return nil, nil },
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.DeleteItemOutput{}, nil
}

// BatchWriteItem implements the DynamoDB operation (nothing is left
// unprocessed).
func (t *Tables) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for table, reqs := range in.RequestItems {
		for _, r := range reqs {
			var err error
			switch {
			case r.PutRequest != nil:
				_, err = t.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: r.PutRequest.Item})
			case r.DeleteRequest != nil:
				_, err = t.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: r.DeleteRequest.Key})
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}, nil
}

// Scan implements the DynamoDB operation: every matching item in key
// order, in one page.
func (t *Tables) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	tb, err := t.table(in.TableName)
	if err != nil {
		return nil, err
	}
	env := exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	out := &dynamodb.ScanOutput{}
	err = t.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(tb.Name)).ForEach(func(_, raw []byte) error {
			item, err := decodeItem(raw)
			if err != nil {
				return err
			}
			out.ScannedCount++
			ok, err := evalCondition(aws.ToString(in.FilterExpression), item, env)
			if err != nil || !ok {
				return err
			}
			out.Items = append(out.Items, item)
			out.Count++
			return nil
		})
	})
	return out, err
}

func orEmpty(m map[string]types.AttributeValue) map[string]types.AttributeValue {
	if m == nil {
		return map[string]types.AttributeValue{}
	}
	return m
}

func encodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	return ddbjson.AppendItem(make([]byte, 0, 256), item)
}

func decodeItem(raw []byte) (map[string]types.AttributeValue, error) {
	item, err := ddbjson.DecodeItem(raw)
	if err != nil {
		return nil, fmt.Errorf("stored %w", err)
	}
	return item, nil
}

// Items returns up to limit items of a table as plain JSON objects, for
// the dashboard.
func (t *Tables) Items(name string, limit int) ([]map[string]any, error) {
	out, err := t.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	var items []map[string]any
	for _, it := range out.Items {
		if len(items) == limit {
			break
		}
		items = append(items, plain(it))
	}
	return items, nil
}

func plain(item map[string]types.AttributeValue) map[string]any {
	out := map[string]any{}
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b, _ := ddbjson.AppendValue(nil, item[k])
		out[k] = json.RawMessage(b)
	}
	return out
}

// appendString appends s as a JSON string (the bus writes events with it).
var appendString = ddbjson.AppendString
