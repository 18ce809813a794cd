package awsapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

const tablesTopology = "testdata/tables.yaml"

func dynamo(s *stack) *dynamodb.Client { return dynamodb.NewFromConfig(s.cfg) }

func str(v string) *ddb.AttributeValueMemberS { return &ddb.AttributeValueMemberS{Value: v} }
func num(v string) *ddb.AttributeValueMemberN { return &ddb.AttributeValueMemberN{Value: v} }

type item = map[string]ddb.AttributeValue

// wantValidation asserts err is DynamoDB's ValidationException and its
// message names what is wrong.
func wantValidation(t *testing.T, what string, err error, names string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), names) {
		t.Errorf("%s: %v, want ValidationException naming %q", what, err, names)
	}
}

// Every attribute type survives PutItem and GetItem through the SDK's
// wire codec; a ProjectionExpression returns only the named attributes;
// a missing item is an answer without Item.
func TestDynamoDBPutAndGetItemKeepEveryType(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	in := item{
		"id": str("k1"), "n": num("-12.5e3"), "b": &ddb.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"ok": &ddb.AttributeValueMemberBOOL{Value: false}, "nil": &ddb.AttributeValueMemberNULL{Value: true},
		"ss": &ddb.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &ddb.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs": &ddb.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":  &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{str("x"), num("1"), &ddb.AttributeValueMemberL{Value: []ddb.AttributeValue{}}}},
		"m":  &ddb.AttributeValueMemberM{Value: item{"deep": &ddb.AttributeValueMemberM{Value: item{"s": str("é\"\n")}}, "empty": &ddb.AttributeValueMemberM{Value: item{}}}},
	}
	if _, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String("local-kv"), Item: in}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("local-kv"), Key: item{"id": str("k1")}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	// DynamoDB keeps a number as its value: -12.5e3 comes back as -12500.
	want := maps.Clone(in)
	want["n"] = num("-12500")
	if !reflect.DeepEqual(got.Item, want) {
		t.Errorf("GetItem:\n got %#v\nwant %#v", got.Item, want)
	}
	p, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("local-kv"), Key: item{"id": str("k1")},
		ProjectionExpression: aws.String("#n, ok, absent"), ExpressionAttributeNames: map[string]string{"#n": "n"}})
	if err != nil || !reflect.DeepEqual(p.Item, item{"n": num("-12500"), "ok": &ddb.AttributeValueMemberBOOL{}}) {
		t.Errorf("GetItem with ProjectionExpression: %v %v", p.Item, err)
	}
	none, err := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("local-kv"), Key: item{"id": str("nope")}})
	if err != nil || none.Item != nil {
		t.Errorf("GetItem of a missing item: %v %v, want no Item", none.Item, err)
	}
}

// Conditions, updates and ReturnValues as DynamoDB's API reference gives
// them: a failed condition is ConditionalCheckFailedException (with the
// stored item under ReturnValuesOnConditionCheckFailure ALL_OLD).
func TestDynamoDBConditionalWritesAndReturnValues(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	table := aws.String("local-kv")
	put := &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("a"), "v": num("1"), "tag": str("x")},
		ConditionExpression: aws.String("attribute_not_exists(id)")}
	if _, err := c.PutItem(ctx(t), put); err != nil {
		t.Fatal(err)
	}
	put.ReturnValuesOnConditionCheckFailure = ddb.ReturnValuesOnConditionCheckFailureAllOld
	_, err := c.PutItem(ctx(t), put)
	var cf *ddb.ConditionalCheckFailedException
	if !errors.As(err, &cf) || !reflect.DeepEqual(cf.Item, put.Item) {
		t.Fatalf("second conditional put: %v, want ConditionalCheckFailedException carrying the stored item", err)
	}
	old, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("a"), "v": num("2"), "tag": str("x")}, ReturnValues: ddb.ReturnValueAllOld})
	if err != nil || !reflect.DeepEqual(old.Attributes, put.Item) {
		t.Errorf("PutItem ReturnValues ALL_OLD: %v %v", old.Attributes, err)
	}
	upd, err := c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: item{"id": str("a")},
		UpdateExpression: aws.String("SET v = :three, #s = :s REMOVE tag"), ConditionExpression: aws.String("v = :two"),
		ExpressionAttributeNames:  map[string]string{"#s": "state"},
		ExpressionAttributeValues: item{":three": num("3"), ":two": num("2"), ":s": str("done")}, ReturnValues: ddb.ReturnValueUpdatedNew})
	if err != nil || !reflect.DeepEqual(upd.Attributes, item{"v": num("3"), "state": str("done")}) {
		t.Errorf("UpdateItem ReturnValues UPDATED_NEW: %v %v", upd.Attributes, err)
	}
	upd, err = c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: item{"id": str("a")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: item{":v": num("4")}, ReturnValues: ddb.ReturnValueAllNew})
	if err != nil || !reflect.DeepEqual(upd.Attributes, item{"id": str("a"), "v": num("4"), "state": str("done")}) {
		t.Errorf("UpdateItem ReturnValues ALL_NEW: %v %v", upd.Attributes, err)
	}
	_, err = c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: item{"id": str("a")},
		UpdateExpression: aws.String("SET v = :v"), ConditionExpression: aws.String("v < :v"), ExpressionAttributeValues: item{":v": num("1")}})
	if !errors.As(err, &cf) {
		t.Errorf("UpdateItem with a false condition: %v, want ConditionalCheckFailedException", err)
	}
	_, err = c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: item{"id": str("a")},
		UpdateExpression: aws.String("SET id = :v"), ExpressionAttributeValues: item{":v": str("b")}})
	wantValidation(t, "UpdateItem of a key attribute", err, "part of the key")
	del, err := c.DeleteItem(ctx(t), &dynamodb.DeleteItemInput{TableName: table, Key: item{"id": str("a")}, ReturnValues: ddb.ReturnValueAllOld})
	if err != nil || !reflect.DeepEqual(del.Attributes, item{"id": str("a"), "v": num("4"), "state": str("done")}) {
		t.Errorf("DeleteItem ReturnValues ALL_OLD: %v %v", del.Attributes, err)
	}
	_, err = c.DeleteItem(ctx(t), &dynamodb.DeleteItemInput{TableName: table, Key: item{"id": str("a")}, ConditionExpression: aws.String("attribute_exists(id)")})
	if !errors.As(err, &cf) {
		t.Errorf("conditional DeleteItem of a deleted item: %v, want ConditionalCheckFailedException", err)
	}
}

func putReadings(t *testing.T, c *dynamodb.Client, device string, n int) {
	t.Helper()
	for i := range n {
		site := "north"
		if i%2 == 1 {
			site = "south"
		}
		// at 9, 10, 11, ...: numeric order differs from the strings' order.
		if _, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String("local-readings"),
			Item: item{"device": str(device), "at": num(fmt.Sprint(9 + i)), "site": str(site), "v": num(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
}

func ats(items []item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["at"].(*ddb.AttributeValueMemberN).Value)
	}
	return out
}

// Query reads one partition in sort key order (numeric for N), pages by
// Limit with LastEvaluatedKey/ExclusiveStartKey (the SDK's paginator
// drives it), reverses with ScanIndexForward false, filters after the
// limit (Count vs ScannedCount) and reads a global secondary index.
func TestDynamoDBQueryPagesInSortKeyOrder(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	putReadings(t, c, "d1", 7)
	putReadings(t, c, "d2", 2)
	in := &dynamodb.QueryInput{TableName: aws.String("local-readings"), KeyConditionExpression: aws.String("device = :d"),
		ExpressionAttributeValues: item{":d": str("d1")}, Limit: aws.Int32(3)}
	var all []item
	pages := 0
	for p := dynamodb.NewQueryPaginator(c, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Items) > 3 {
			t.Errorf("page of %d items over Limit 3", len(out.Items))
		}
		all = append(all, out.Items...)
	}
	if want := []string{"9", "10", "11", "12", "13", "14", "15"}; !slices.Equal(ats(all), want) || pages != 3 {
		t.Errorf("paged query: %v in %d pages, want %v in 3", ats(all), pages, want)
	}
	desc, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"),
		KeyConditionExpression: aws.String("device = :d AND #at BETWEEN :lo AND :hi"), ExpressionAttributeNames: map[string]string{"#at": "at"},
		ExpressionAttributeValues: item{":d": str("d1"), ":lo": num("10"), ":hi": num("13")}, ScanIndexForward: aws.Bool(false)})
	if err != nil || !slices.Equal(ats(desc.Items), []string{"13", "12", "11", "10"}) {
		t.Errorf("BETWEEN, descending: %v %v", ats(desc.Items), err)
	}
	f, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), KeyConditionExpression: aws.String("device = :d AND at >= :from"),
		FilterExpression: aws.String("site = :s"), ProjectionExpression: aws.String("at"), Limit: aws.Int32(4),
		ExpressionAttributeValues: item{":d": str("d1"), ":from": num("10"), ":s": str("north")}})
	if err != nil || f.ScannedCount != 4 || f.Count != 2 || !slices.Equal(ats(f.Items), []string{"11", "13"}) || len(f.Items[0]) != 1 || f.LastEvaluatedKey == nil {
		t.Errorf("filtered query: count %d scanned %d items %v last %v (%v)", f.Count, f.ScannedCount, f.Items, f.LastEvaluatedKey, err)
	}
	byIndex, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), IndexName: aws.String("by-site"),
		KeyConditionExpression: aws.String("site = :s AND at < :to"), ExpressionAttributeValues: item{":s": str("south"), ":to": num("14")}})
	if err != nil || !slices.Equal(ats(byIndex.Items), []string{"10", "10", "12"}) {
		t.Errorf("index query: %v %v", ats(byIndex.Items), err)
	}
	n, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), KeyConditionExpression: aws.String("device = :d"),
		ExpressionAttributeValues: item{":d": str("d2")}, Select: ddb.SelectCount})
	if err != nil || n.Count != 2 || n.Items != nil {
		t.Errorf("Select COUNT: %d %v %v", n.Count, n.Items, err)
	}
	_, err = c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), KeyConditionExpression: aws.String("at = :a"),
		ExpressionAttributeValues: item{":a": num("9")}})
	wantValidation(t, "Query without the partition key", err, "device")
	_, err = c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), IndexName: aws.String("nope"),
		KeyConditionExpression: aws.String("site = :s"), ExpressionAttributeValues: item{":s": str("x")}})
	wantValidation(t, "Query of a missing index", err, "nope")
	_, err = c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("local-readings"), KeyConditionExpression: aws.String("device = :d"),
		FilterExpression: aws.String("#a > :a"), ExpressionAttributeNames: map[string]string{"#a": "at"}, ExpressionAttributeValues: item{":d": str("d1"), ":a": num("1")}})
	wantValidation(t, "Query filtering on the sort key", err, "non-primary key attributes")
	arn, err := c.Query(ctx(t), &dynamodb.QueryInput{TableName: aws.String("arn:aws:dynamodb:local:000000000000:table/local-readings"),
		KeyConditionExpression: aws.String("device = :d"), ExpressionAttributeValues: item{":d": str("d2")}})
	if err != nil || arn.Count != 2 {
		t.Errorf("Query by the table's ARN: %v %v", arn, err)
	}
}

// Scan pages through the whole table by Limit; parallel segments cover
// every item once; a filter keeps ScannedCount at what was read.
func TestDynamoDBScanPagesAndSegments(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	for i := range 9 {
		putReadings(t, c, fmt.Sprintf("dev-%d", i), 2)
	}
	count := func(in *dynamodb.ScanInput) (items, pages int) {
		for p := dynamodb.NewScanPaginator(c, in); p.HasMorePages(); {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			items += len(out.Items)
			pages++
		}
		return items, pages
	}
	if n, pages := count(&dynamodb.ScanInput{TableName: aws.String("local-readings"), Limit: aws.Int32(5)}); n != 18 || pages != 4 {
		t.Errorf("scan by 5: %d items in %d pages, want 18 in 4", n, pages)
	}
	seg := 0
	for i := range 3 {
		n, _ := count(&dynamodb.ScanInput{TableName: aws.String("local-readings"), Segment: aws.Int32(int32(i)), TotalSegments: aws.Int32(3)})
		seg += n
	}
	if seg != 18 {
		t.Errorf("3 segments hold %d items, want 18", seg)
	}
	f, err := c.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String("local-readings"), FilterExpression: aws.String("v = :one"),
		ExpressionAttributeValues: item{":one": num("1")}})
	if err != nil || f.Count != 9 || f.ScannedCount != 18 {
		t.Errorf("filtered scan: count %d scanned %d (%v)", f.Count, f.ScannedCount, err)
	}
	_, err = c.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String("local-readings"), Segment: aws.Int32(3), TotalSegments: aws.Int32(3)})
	wantValidation(t, "Segment out of range", err, "Segment")
}

// BatchWriteItem takes 1 to 25 puts and deletes, refuses the whole batch
// for a duplicate key or a 26th request, and leaves nothing unprocessed.
func TestDynamoDBBatchWriteItem(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	var reqs []ddb.WriteRequest
	for i := range 25 {
		reqs = append(reqs, ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item{"id": str(fmt.Sprint(i)), "v": num(fmt.Sprint(i))}}})
	}
	out, err := c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"local-kv": reqs}})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("25 puts: %v %v", out, err)
	}
	scan, err := c.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String("local-kv"), Select: ddb.SelectCount})
	if err != nil || scan.Count != 25 {
		t.Errorf("after 25 puts the table holds %d (%v)", scan.Count, err)
	}
	_, err = c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{
		"local-kv": append(slices.Clone(reqs), ddb.WriteRequest{PutRequest: &ddb.PutRequest{Item: item{"id": str("25")}}})}})
	wantValidation(t, "26 requests", err, "25")
	_, err = c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"local-kv": {
		{PutRequest: &ddb.PutRequest{Item: item{"id": str("new")}}}, {DeleteRequest: &ddb.DeleteRequest{Key: item{"id": str("new")}}}}}})
	wantValidation(t, "a key twice", err, "duplicates")
	if g, _ := c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("local-kv"), Key: item{"id": str("new")}}); g == nil || g.Item != nil {
		t.Errorf("a refused batch wrote its put: %v", g)
	}
	_, err = c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"local-nope": reqs[:1]}})
	var nf *ddb.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("batch to a missing table: %v, want ResourceNotFoundException", err)
	}
	dels := make([]ddb.WriteRequest, 0, 25)
	for i := range 25 {
		dels = append(dels, ddb.WriteRequest{DeleteRequest: &ddb.DeleteRequest{Key: item{"id": str(fmt.Sprint(i))}}})
	}
	if _, err := c.BatchWriteItem(ctx(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddb.WriteRequest{"local-kv": dels}}); err != nil {
		t.Fatal(err)
	}
	if scan, _ := c.Scan(ctx(t), &dynamodb.ScanInput{TableName: aws.String("local-kv")}); scan == nil || scan.Count != 0 {
		t.Errorf("after 25 deletes: %v", scan)
	}
}

// DescribeTable answers the topology's key schema and index; ListTables
// pages by Limit; a missing table is ResourceNotFoundException.
func TestDynamoDBDescribeAndListTables(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	putReadings(t, c, "d", 3)
	d, err := c.DescribeTable(ctx(t), &dynamodb.DescribeTableInput{TableName: aws.String("local-readings")})
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Table
	if tb.TableStatus != ddb.TableStatusActive || aws.ToInt64(tb.ItemCount) != 3 || aws.ToString(tb.TableArn) != "arn:aws:dynamodb:local:000000000000:table/local-readings" ||
		len(tb.KeySchema) != 2 || aws.ToString(tb.KeySchema[1].AttributeName) != "at" || tb.KeySchema[1].KeyType != ddb.KeyTypeRange ||
		len(tb.GlobalSecondaryIndexes) != 1 || aws.ToString(tb.GlobalSecondaryIndexes[0].IndexName) != "by-site" || len(tb.AttributeDefinitions) != 3 ||
		tb.CreationDateTime == nil || tb.BillingModeSummary.BillingMode != ddb.BillingModePayPerRequest {
		js, _ := json.Marshal(tb)
		t.Errorf("DescribeTable: %s", js)
	}
	l, err := c.ListTables(ctx(t), &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	if err != nil || !slices.Equal(l.TableNames, []string{"local-kv"}) || aws.ToString(l.LastEvaluatedTableName) != "local-kv" {
		t.Fatalf("ListTables Limit 1: %v %v %v", l.TableNames, aws.ToString(l.LastEvaluatedTableName), err)
	}
	l, err = c.ListTables(ctx(t), &dynamodb.ListTablesInput{ExclusiveStartTableName: l.LastEvaluatedTableName})
	if err != nil || !slices.Equal(l.TableNames, []string{"local-readings"}) || l.LastEvaluatedTableName != nil {
		t.Errorf("ListTables after local-kv: %v %v", l.TableNames, err)
	}
	_, err = c.DescribeTable(ctx(t), &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	var nf *ddb.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeTable of a missing table: %v, want ResourceNotFoundException", err)
	}
	_, err = c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String("nope"), Key: item{"id": str("x")}})
	if !errors.As(err, &nf) {
		t.Errorf("GetItem of a missing table: %v, want ResourceNotFoundException", err)
	}
}

// What the embedded tables do not evaluate is refused with a
// ValidationException naming it, never misread; so are requests DynamoDB
// itself refuses (key schema, 400 KB items, unused placeholders).
func TestDynamoDBRefusesWhatItCannotDoByName(t *testing.T) {
	s := start(t, tablesTopology)
	c := dynamo(s)
	table := aws.String("local-kv")
	key := item{"id": str("a")}
	_, err := c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("a"), "tags": &ddb.AttributeValueMemberSS{Value: []string{"x"}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: key, ProjectionExpression: aws.String("m.deep")})
	wantValidation(t, "nested projection", err, "top-level names only")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: key, ConditionExpression: aws.String("contains(tags, :x)"),
		ExpressionAttributeValues: item{":x": str("x")}})
	wantValidation(t, "contains()", err, "function contains is not supported")
	_, err = c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: key, UpdateExpression: aws.String("ADD n :one"),
		ExpressionAttributeValues: item{":one": num("1")}})
	wantValidation(t, "ADD", err, `clause "ADD" is not supported`)
	_, err = c.UpdateItem(ctx(t), &dynamodb.UpdateItemInput{TableName: table, Key: key, UpdateExpression: aws.String("SET n = n + :one"),
		ExpressionAttributeValues: item{":one": num("1")}})
	wantValidation(t, "SET arithmetic", err, "+")
	_, err = c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: key, AttributesToGet: []string{"id"}})
	wantValidation(t, "legacy AttributesToGet", err, "AttributesToGet")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: key, ExpressionAttributeValues: item{":unused": str("x")}})
	wantValidation(t, "unused value", err, ":unused")
	_, err = c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: item{"id": num("1")}})
	wantValidation(t, "key of the wrong type", err, "Type mismatch for key id")
	_, err = c.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: table, Key: item{"id": str("a"), "x": str("b")}})
	wantValidation(t, "key with another attribute", err, "does not match the schema")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("big"), "blob": str(strings.Repeat("x", 400*1024))}})
	wantValidation(t, "item over 400 KB", err, "maximum allowed size")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("")}})
	wantValidation(t, "empty key", err, "empty string")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("n"), "n": num("12abc")}})
	wantValidation(t, "bad number", err, "numeric")
	_, err = c.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: table, Item: item{"id": str("n"), "ss": &ddb.AttributeValueMemberSS{Value: []string{"a", "a"}}}})
	wantValidation(t, "set with duplicates", err, "duplicates")
}

// The wire shape for clients other than Go's: __type carries DynamoDB's
// namespace, an unknown operation is UnknownOperationException, and a
// malformed AttributeValue is a ValidationException.
func TestDynamoDBWireErrors(t *testing.T) {
	s := start(t, tablesTopology)
	call := func(op, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.url+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]any{}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, body := call("CreateTable", `{"TableName":"x"}`); code != 400 || body["__type"] != "com.amazonaws.dynamodb.v20120810#UnknownOperationException" ||
		!strings.Contains(body["message"].(string), "CreateTable") {
		t.Errorf("CreateTable: %d %v", code, body)
	}
	if code, body := call("PutItem", `{"TableName":"local-kv","Item":{"id":{"S":"a","N":"1"}}}`); code != 400 ||
		body["__type"] != "com.amazonaws.dynamodb.v20120810#ValidationException" || !strings.Contains(body["message"].(string), "more than one datatypes") {
		t.Errorf("two data types: %d %v", code, body)
	}
	if code, body := call("GetItem", `{"TableName":"nope","Key":{"id":{"S":"a"}}}`); code != 400 ||
		body["__type"] != "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" {
		t.Errorf("missing table: %d %v", code, body)
	}
	if code, body := call("GetItem", `{"Key":{"id":{"S":"a"}}}`); code != 400 || !strings.Contains(body["message"].(string), "tableName") {
		t.Errorf("no TableName: %d %v", code, body)
	}
}
