package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
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
	db     *bolt.DB
	keys   map[string]topology.Table
	opened time.Time
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
	t := &Tables{db: db, keys: map[string]topology.Table{}, opened: time.Now().UTC().Truncate(time.Second)}
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
		return nil, errors.Join(err, db.Close())
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
	n := aws.ToString(name)
	if i := strings.Index(n, ":table/"); strings.HasPrefix(n, "arn:") && i >= 0 {
		n = n[i+len(":table/"):] // DynamoDB takes a table's ARN for its name
	}
	tb, ok := t.keys[n]
	if !ok {
		return tb, &types.ResourceNotFoundException{Message: aws.String(fmt.Sprintf("Requested resource not found: table %q is not in the topology", aws.ToString(name)))}
	}
	return tb, nil
}

// invalid is DynamoDB's answer to a request it cannot take.
func invalid(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// asInvalid makes an expression's error a ValidationException.
func asInvalid(err error) error {
	var api smithy.APIError
	if err == nil || errors.As(err, &api) {
		return err
	}
	return invalid("Invalid expression: %v", err)
}

// maxItemSize is DynamoDB's item size limit, 400 KB.
const maxItemSize = 400 * 1024

// keyAttrs are the names of the table's key attributes.
func keyAttrs(tb topology.Table) []topology.Key {
	if tb.RangeKey == nil {
		return []topology.Key{tb.HashKey}
	}
	return []topology.Key{tb.HashKey, *tb.RangeKey}
}

// checkKey checks an item's key attributes as DynamoDB does: each present
// with its declared type (S, N or B) and not empty; exact: nothing else
// (a Key, not an item).
func checkKey(tb topology.Table, item map[string]types.AttributeValue, exact bool) error {
	for _, k := range keyAttrs(tb) {
		v, ok := item[k.Name]
		if !ok {
			if exact {
				return invalid("The provided key element does not match the schema: key attribute %s is missing", k.Name)
			}
			return invalid("One or more parameter values were invalid: Missing the key %s in the item", k.Name)
		}
		typ, empty := "", false
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			typ, empty = "S", x.Value == ""
		case *types.AttributeValueMemberN:
			typ = "N"
			if err := ddbjson.Number(x.Value); err != nil {
				return invalid("One or more parameter values were invalid: key %s: %v", k.Name, err)
			}
		case *types.AttributeValueMemberB:
			typ, empty = "B", len(x.Value) == 0
		}
		want := k.Type
		if want == "" {
			want = "S"
		}
		if typ != want {
			return invalid("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k.Name, want, typeName(v))
		}
		if empty {
			return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty %s value. Key: %s",
				map[string]string{"S": "string", "B": "binary"}[typ], k.Name)
		}
	}
	if exact && len(item) != len(keyAttrs(tb)) {
		return invalid("The provided key element does not match the schema: a key has only the attributes %s", keyNames(tb))
	}
	return nil
}

func keyNames(tb topology.Table) string {
	var out []string
	for _, k := range keyAttrs(tb) {
		out = append(out, k.Name)
	}
	return strings.Join(out, ", ")
}

// typeName is the data type of a value as DynamoDB names it.
func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	}
	return fmt.Sprintf("%T", v)
}

// key encodes an item's primary key (checked with checkKey). A number is
// encoded by its value (ddbjson.CanonicalNumber): "1" and "1.0" are one key,
// as in DynamoDB.
func (t *Tables) key(tb topology.Table, item map[string]types.AttributeValue) []byte {
	part := func(k topology.Key) []byte {
		switch v := item[k.Name].(type) {
		case *types.AttributeValueMemberS:
			return []byte(v.Value)
		case *types.AttributeValueMemberN:
			if n, err := ddbjson.CanonicalNumber(v.Value); err == nil {
				return []byte(n)
			}
			return []byte(v.Value)
		case *types.AttributeValueMemberB:
			return v.Value
		}
		return nil
	}
	h := part(tb.HashKey)
	if tb.RangeKey == nil {
		return h
	}
	return append(append(h, 0), part(*tb.RangeKey)...)
}

func conditionFailed(old map[string]types.AttributeValue, rv types.ReturnValuesOnConditionCheckFailure) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld {
		e.Item = old
	}
	return e
}

// write runs fn on the stored item of key (nil if absent) in one
// transaction; fn returns the new item (nil deletes). It returns the
// stored item and the one written.
func (t *Tables) write(name *string, key map[string]types.AttributeValue, exact bool, fn func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error)) (before, after map[string]types.AttributeValue, err error) {
	tb, err := t.table(name)
	if err != nil {
		return nil, nil, err
	}
	if err := checkKey(tb, key, exact); err != nil {
		return nil, nil, err
	}
	k := t.key(tb, key)
	// Batch coalesces concurrent writes (a consumer's in-flight events)
	// into one transaction; it may run fn again, which only reads and
	// writes this key.
	err = t.db.Batch(func(tx *bolt.Tx) error {
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
		before, after = old, item
		if item == nil {
			return b.Delete(k)
		}
		if n := ddbjson.Size(item); n > maxItemSize {
			return invalid("Item size has exceeded the maximum allowed size: %d bytes, over 400 KB", n)
		}
		raw, err := encodeItem(item)
		if err != nil {
			return invalid("%v", err)
		}
		return b.Put(k, raw)
	})
	return before, after, err
}

// conditional is the write of one item guarded by a condition expression:
// update computes the new item from the stored one (nil deletes).
type conditional struct {
	condition *string
	env       exprEnv
	onFailure types.ReturnValuesOnConditionCheckFailure
	update    func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error)
}

func (t *Tables) writeIf(table *string, key map[string]types.AttributeValue, exact bool, c conditional) (before, after map[string]types.AttributeValue, err error) {
	return t.write(table, key, exact, func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		ok, err := evalCondition(aws.ToString(c.condition), orEmpty(old), c.env)
		if err != nil {
			return nil, asInvalid(err)
		}
		if !ok {
			return nil, conditionFailed(old, c.onFailure)
		}
		return c.update(old)
	})
}

// returnOld checks a PutItem's or DeleteItem's ReturnValues: NONE or ALL_OLD.
func returnOld(rv types.ReturnValue) error {
	if rv != "" && rv != types.ReturnValueNone && rv != types.ReturnValueAllOld {
		return invalid("Return values set to invalid value: %s (this operation takes NONE or ALL_OLD)", rv)
	}
	return nil
}

// PutItem implements the DynamoDB operation, with ReturnValues ALL_OLD.
func (t *Tables) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	env := exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	if err := errors.Join(returnOld(in.ReturnValues), legacy("Expected", in.Expected != nil), env.used(in.ConditionExpression)); err != nil {
		return nil, err
	}
	old, _, err := t.writeIf(in.TableName, in.Item, false, conditional{condition: in.ConditionExpression, env: env,
		onFailure: in.ReturnValuesOnConditionCheckFailure,
		update:    func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) { return in.Item, nil },
	})
	if err != nil {
		return nil, err
	}
	out := &dynamodb.PutItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = old
	}
	return out, nil
}

// GetItem implements the DynamoDB operation, with a ProjectionExpression.
func (t *Tables) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	tb, err := t.table(in.TableName)
	if err != nil {
		return nil, err
	}
	env := exprEnv{names: in.ExpressionAttributeNames}
	if err := errors.Join(checkKey(tb, in.Key, true), legacy("AttributesToGet", in.AttributesToGet != nil), env.used(in.ProjectionExpression)); err != nil {
		return nil, err
	}
	project, err := projection(in.ProjectionExpression, env)
	if err != nil {
		return nil, err
	}
	k := t.key(tb, in.Key)
	out := &dynamodb.GetItemOutput{}
	err = t.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket([]byte(tb.Name)).Get(k); raw != nil {
			out.Item, err = decodeItem(raw)
		}
		return err
	})
	if out.Item != nil {
		out.Item = project(out.Item)
	}
	return out, err
}

// UpdateItem implements the DynamoDB operation (creating the item if
// absent), with every ReturnValues: UPDATED_OLD and UPDATED_NEW are the
// attributes whose values the update changed.
func (t *Tables) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	env := exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	if err := errors.Join(legacy("AttributeUpdates", in.AttributeUpdates != nil), legacy("Expected", in.Expected != nil),
		env.used(in.ConditionExpression, in.UpdateExpression)); err != nil {
		return nil, err
	}
	switch in.ReturnValues {
	case "", types.ReturnValueNone, types.ReturnValueAllOld, types.ReturnValueAllNew, types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
	default:
		return nil, invalid("Return values set to invalid value: %s", in.ReturnValues)
	}
	old, item, err := t.writeIf(in.TableName, in.Key, true, conditional{condition: in.ConditionExpression, env: env,
		onFailure: in.ReturnValuesOnConditionCheckFailure, update: func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
			item := maps.Clone(orEmpty(old))
			maps.Copy(item, in.Key)
			if err := applyUpdate(aws.ToString(in.UpdateExpression), item, env); err != nil {
				return nil, asInvalid(err)
			}
			for k, v := range in.Key {
				if !reflect.DeepEqual(item[k], v) {
					return nil, invalid("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", k)
				}
			}
			return item, nil
		}})
	if err != nil {
		return nil, err
	}
	out := &dynamodb.UpdateItemOutput{}
	changed := func(from, to map[string]types.AttributeValue) map[string]types.AttributeValue {
		var m map[string]types.AttributeValue
		for k, v := range from {
			if !reflect.DeepEqual(v, to[k]) {
				if m == nil {
					m = map[string]types.AttributeValue{}
				}
				m[k] = v
			}
		}
		return m
	}
	switch in.ReturnValues {
	case types.ReturnValueAllOld:
		out.Attributes = old
	case types.ReturnValueAllNew:
		out.Attributes = item
	case types.ReturnValueUpdatedOld:
		out.Attributes = changed(old, item)
	case types.ReturnValueUpdatedNew:
		out.Attributes = changed(item, old)
	}
	return out, nil
}

// DeleteItem implements the DynamoDB operation, with ReturnValues ALL_OLD.
func (t *Tables) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	env := exprEnv{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues}
	if err := errors.Join(returnOld(in.ReturnValues), legacy("Expected", in.Expected != nil), env.used(in.ConditionExpression)); err != nil {
		return nil, err
	}
	old, _, err := t.writeIf(in.TableName, in.Key, true, conditional{condition: in.ConditionExpression, env: env,
		onFailure: in.ReturnValuesOnConditionCheckFailure,
		update:    func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) { return nil, nil },
	})
	if err != nil {
		return nil, err
	}
	out := &dynamodb.DeleteItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = old
	}
	return out, nil
}

// BatchWriteItem implements the DynamoDB operation: the whole batch is
// checked first as DynamoDB checks it (1 to 25 requests, each a put or a
// delete, no key twice, tables that exist; any failure rejects the whole
// batch), then every request is written in one transaction, so nothing is
// left in UnprocessedItems.
func (t *Tables) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	type write struct {
		table string
		key   []byte
		item  map[string]types.AttributeValue // nil deletes
	}
	var writes []write
	seen := map[string]bool{}
	n := 0
	for table, reqs := range in.RequestItems {
		tb, err := t.table(aws.String(table))
		if err != nil {
			return nil, err
		}
		if len(reqs) == 0 {
			return nil, invalid("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: the requests of table %s must have length greater than or equal to 1", table)
		}
		for _, r := range reqs {
			n++
			var item, key map[string]types.AttributeValue
			switch {
			case r.PutRequest != nil && r.DeleteRequest != nil, r.PutRequest == nil && r.DeleteRequest == nil:
				return nil, invalid("Supplied AttributeValue has more than one datatypes set: a WriteRequest has exactly one of PutRequest and DeleteRequest")
			case r.PutRequest != nil:
				item, key = r.PutRequest.Item, r.PutRequest.Item
				if err := checkKey(tb, item, false); err != nil {
					return nil, err
				}
				if size := ddbjson.Size(item); size > maxItemSize {
					return nil, invalid("Item size has exceeded the maximum allowed size: %d bytes, over 400 KB", size)
				}
			default:
				key = r.DeleteRequest.Key
				if err := checkKey(tb, key, true); err != nil {
					return nil, err
				}
			}
			k := t.key(tb, key)
			if seen[table+"\x00"+string(k)] {
				return nil, invalid("Provided list of item keys contains duplicates")
			}
			seen[table+"\x00"+string(k)] = true
			writes = append(writes, write{table: table, key: k, item: item})
		}
	}
	switch {
	case n == 0:
		return nil, invalid("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > 25:
		return nil, invalid("Too many items requested for the BatchWriteItem call: %d, the maximum is 25", n)
	}
	err := t.db.Batch(func(tx *bolt.Tx) error {
		for _, w := range writes {
			b := tx.Bucket([]byte(w.table))
			if w.item == nil {
				if err := b.Delete(w.key); err != nil {
					return err
				}
				continue
			}
			raw, err := encodeItem(w.item)
			if err != nil {
				return invalid("%v", err)
			}
			if err := b.Put(w.key, raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}, nil
}

// legacy refuses a legacy parameter (the pre-expression API) by name.
func legacy(name string, set bool) error {
	if !set {
		return nil
	}
	return invalid("eventplane dev does not support the legacy parameter %s: use the expression parameters (ConditionExpression, UpdateExpression, KeyConditionExpression, FilterExpression, ProjectionExpression)", name)
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
	out, err := t.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name), Limit: aws.Int32(int32(max(limit, 1)))})
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
