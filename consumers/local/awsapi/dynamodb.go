package awsapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventplane/eventplane/consumers/local/ddbjson"
)

// DynamoDB over AWS JSON 1.0 (X-Amz-Target: DynamoDB_20120810.<Op>), over
// the platform's embedded tables: the wire form is decoded into the SDK's
// input types and the tables answer as DynamoDB does (their expressions,
// validation and errors); this file only carries requests and answers.
// Errors are {"__type": "com.amazonaws.dynamodb.v20120810#<Code>",
// "message": ...}; a failed condition with ReturnValuesOnConditionCheckFailure
// ALL_OLD carries the stored Item, as DynamoDB's does.

// Tables is what the DynamoDB API needs of the platform's tables.
type Tables interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
}

func dynamoOps(s *Server) map[string]jsonOp {
	t := s.p.DynamoDB()
	return map[string]jsonOp{
		"GetItem":        func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return getItem(ctx, t, b) },
		"PutItem":        func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return putItem(ctx, t, b) },
		"UpdateItem":     func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return updateItem(ctx, t, b) },
		"DeleteItem":     func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return deleteItem(ctx, t, b) },
		"Query":          func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return query(ctx, t, b) },
		"Scan":           func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return scan(ctx, t, b) },
		"BatchWriteItem": func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return batchWriteItem(ctx, t, b) },
		"DescribeTable":  func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return describeTable(ctx, t, b) },
		"ListTables":     func(ctx context.Context, _ *http.Request, b []byte) (any, error) { return listTables(ctx, t, b) },
	}
}

func dynamoError(e *apiError) (string, http.Header) {
	code := e.Code
	switch code {
	case "UnsupportedOperation":
		code = "UnknownOperationException"
	case "InternalFailure":
		code = "InternalServerError"
	}
	return "com.amazonaws.dynamodb.v20120810#" + code, nil
}

// dynamoErr is the tables' error in the wire's shape.
func dynamoErr(err error) error {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		e := &apiError{Code: "ConditionalCheckFailedException", Message: cf.ErrorMessage()}
		if cf.Item != nil {
			e.Fields = map[string]any{"Item": ddbjson.Item(cf.Item)}
		}
		return e
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &apiError{Code: ae.ErrorCode(), Message: ae.ErrorMessage(), Server: ae.ErrorFault() == smithy.FaultServer}
	}
	return err
}

// decodeDynamo reads a request: a value DynamoDB would refuse is a
// ValidationException naming the attribute; a TableName is required.
func decodeDynamo(body []byte, v any, table *string) error {
	if err := json.Unmarshal(body, v); err != nil {
		var ie *ddbjson.InvalidError
		if errors.As(err, &ie) {
			return validation("One or more parameter values were invalid: %v", ie)
		}
		return decode(body, v)
	}
	if table != nil && *table == "" {
		return validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	return nil
}

// expressions are the placeholder members every expression request has.
type expressions struct {
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues ddbjson.Item
}

// legacyParam is a legacy (pre-expression) member: present or not.
type legacyParam = json.RawMessage

func present(m legacyParam) bool { return len(m) > 0 && string(m) != "null" }

func (e expressions) values() map[string]types.AttributeValue {
	if e.ExpressionAttributeValues == nil {
		return nil
	}
	return e.ExpressionAttributeValues
}

func getItem(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		TableName            string
		Key                  ddbjson.Item
		ProjectionExpression *string
		ConsistentRead       *bool
		AttributesToGet      []string
		expressions
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.GetItem(ctx, &dynamodb.GetItemInput{TableName: &in.TableName, Key: in.Key, ProjectionExpression: in.ProjectionExpression,
		ConsistentRead: in.ConsistentRead, AttributesToGet: in.AttributesToGet, ExpressionAttributeNames: in.ExpressionAttributeNames})
	if err != nil {
		return nil, dynamoErr(err)
	}
	if out.Item == nil {
		return struct{}{}, nil
	}
	return map[string]any{"Item": ddbjson.Item(out.Item)}, nil
}

// attributes is a write's answer: the Attributes ReturnValues asked for.
func attributes(a map[string]types.AttributeValue) any {
	if a == nil {
		return struct{}{}
	}
	return map[string]any{"Attributes": ddbjson.Item(a)}
}

// write is the members of PutItem, UpdateItem and DeleteItem.
type write struct {
	TableName                           string
	ConditionExpression                 *string
	ReturnValues                        types.ReturnValue
	ReturnValuesOnConditionCheckFailure types.ReturnValuesOnConditionCheckFailure
	Expected                            legacyParam
	expressions
}

// expected is a legacy Expected member as the tables see it: set or not.
func (w write) expected() map[string]types.ExpectedAttributeValue {
	if !present(w.Expected) {
		return nil
	}
	return map[string]types.ExpectedAttributeValue{}
}

func putItem(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		write
		Item ddbjson.Item
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.PutItem(ctx, &dynamodb.PutItemInput{TableName: &in.TableName, Item: in.Item, ConditionExpression: in.ConditionExpression,
		ReturnValues: in.ReturnValues, ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure, Expected: in.expected(),
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.values()})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return attributes(out.Attributes), nil
}

func updateItem(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		write
		Key              ddbjson.Item
		UpdateExpression *string
		AttributeUpdates legacyParam
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	var updates map[string]types.AttributeValueUpdate
	if present(in.AttributeUpdates) {
		updates = map[string]types.AttributeValueUpdate{}
	}
	out, err := t.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &in.TableName, Key: in.Key, UpdateExpression: in.UpdateExpression,
		ConditionExpression: in.ConditionExpression, ReturnValues: in.ReturnValues, ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure,
		Expected: in.expected(), AttributeUpdates: updates, ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.values()})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return attributes(out.Attributes), nil
}

func deleteItem(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		write
		Key ddbjson.Item
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &in.TableName, Key: in.Key, ConditionExpression: in.ConditionExpression,
		ReturnValues: in.ReturnValues, ReturnValuesOnConditionCheckFailure: in.ReturnValuesOnConditionCheckFailure, Expected: in.expected(),
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.values()})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return attributes(out.Attributes), nil
}

// read is the members Query and Scan share.
type read struct {
	TableName            string
	IndexName            *string
	FilterExpression     *string
	ProjectionExpression *string
	Select               types.Select
	Limit                *int32
	ExclusiveStartKey    ddbjson.Item
	ConsistentRead       *bool
	AttributesToGet      []string
	ConditionalOperator  types.ConditionalOperator
	expressions
}

// page is a Query's or Scan's answer.
func page(items []map[string]types.AttributeValue, count, scanned int32, last map[string]types.AttributeValue, sel types.Select) any {
	out := map[string]any{"Count": count, "ScannedCount": scanned}
	if sel != types.SelectCount {
		wire := make([]ddbjson.Item, len(items))
		for i, it := range items {
			wire[i] = it
		}
		out["Items"] = wire
	}
	if last != nil {
		out["LastEvaluatedKey"] = ddbjson.Item(last)
	}
	return out
}

// condition is a legacy KeyConditions, QueryFilter or ScanFilter member as
// the tables see it: set or not.
func condition(m legacyParam) map[string]types.Condition {
	if !present(m) {
		return nil
	}
	return map[string]types.Condition{}
}

func query(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		read
		KeyConditionExpression *string
		ScanIndexForward       *bool
		KeyConditions          legacyParam
		QueryFilter            legacyParam
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.Query(ctx, &dynamodb.QueryInput{TableName: &in.TableName, IndexName: in.IndexName, KeyConditionExpression: in.KeyConditionExpression,
		FilterExpression: in.FilterExpression, ProjectionExpression: in.ProjectionExpression, Select: in.Select, Limit: in.Limit,
		ExclusiveStartKey: in.ExclusiveStartKey, ConsistentRead: in.ConsistentRead, ScanIndexForward: in.ScanIndexForward,
		AttributesToGet: in.AttributesToGet, ConditionalOperator: in.ConditionalOperator, KeyConditions: condition(in.KeyConditions), QueryFilter: condition(in.QueryFilter),
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.values()})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return page(out.Items, out.Count, out.ScannedCount, out.LastEvaluatedKey, in.Select), nil
}

func scan(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		read
		Segment, TotalSegments *int32
		ScanFilter             legacyParam
	}
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.Scan(ctx, &dynamodb.ScanInput{TableName: &in.TableName, IndexName: in.IndexName, FilterExpression: in.FilterExpression,
		ProjectionExpression: in.ProjectionExpression, Select: in.Select, Limit: in.Limit, ExclusiveStartKey: in.ExclusiveStartKey,
		ConsistentRead: in.ConsistentRead, Segment: in.Segment, TotalSegments: in.TotalSegments, AttributesToGet: in.AttributesToGet,
		ConditionalOperator: in.ConditionalOperator, ScanFilter: condition(in.ScanFilter),
		ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.values()})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return page(out.Items, out.Count, out.ScannedCount, out.LastEvaluatedKey, in.Select), nil
}

func batchWriteItem(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		RequestItems map[string][]struct {
			PutRequest    *struct{ Item ddbjson.Item }
			DeleteRequest *struct{ Key ddbjson.Item }
		}
	}
	if err := decodeDynamo(body, &in, nil); err != nil {
		return nil, err
	}
	reqs := map[string][]types.WriteRequest{}
	for table, rs := range in.RequestItems {
		for _, r := range rs {
			var w types.WriteRequest
			if r.PutRequest != nil {
				w.PutRequest = &types.PutRequest{Item: r.PutRequest.Item}
			}
			if r.DeleteRequest != nil {
				w.DeleteRequest = &types.DeleteRequest{Key: r.DeleteRequest.Key}
			}
			reqs[table] = append(reqs[table], w)
		}
		if len(rs) == 0 {
			reqs[table] = []types.WriteRequest{}
		}
	}
	out, err := t.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: reqs})
	if err != nil {
		return nil, dynamoErr(err)
	}
	unprocessed := map[string][]any{}
	for table, ws := range out.UnprocessedItems {
		for _, w := range ws {
			if w.PutRequest != nil {
				unprocessed[table] = append(unprocessed[table], map[string]any{"PutRequest": map[string]any{"Item": ddbjson.Item(w.PutRequest.Item)}})
			} else if w.DeleteRequest != nil {
				unprocessed[table] = append(unprocessed[table], map[string]any{"DeleteRequest": map[string]any{"Key": ddbjson.Item(w.DeleteRequest.Key)}})
			}
		}
	}
	return map[string]any{"UnprocessedItems": unprocessed}, nil
}

func describeTable(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct{ TableName string }
	if err := decodeDynamo(body, &in, &in.TableName); err != nil {
		return nil, err
	}
	out, err := t.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &in.TableName})
	if err != nil {
		return nil, dynamoErr(err)
	}
	return map[string]any{"Table": tableDescription(out.Table)}, nil
}

// tableDescription is a TableDescription on the wire (timestamps in epoch
// seconds, as AWS JSON protocols carry them).
func tableDescription(d *types.TableDescription) map[string]any {
	throughput := func(p *types.ProvisionedThroughputDescription) map[string]any {
		if p == nil {
			return nil
		}
		return map[string]any{"ReadCapacityUnits": p.ReadCapacityUnits, "WriteCapacityUnits": p.WriteCapacityUnits, "NumberOfDecreasesToday": p.NumberOfDecreasesToday}
	}
	out := map[string]any{
		"TableName": d.TableName, "TableArn": d.TableArn, "TableId": d.TableId, "TableStatus": d.TableStatus,
		"KeySchema": d.KeySchema, "AttributeDefinitions": d.AttributeDefinitions, "ItemCount": d.ItemCount, "TableSizeBytes": d.TableSizeBytes,
		"ProvisionedThroughput": throughput(d.ProvisionedThroughput), "DeletionProtectionEnabled": d.DeletionProtectionEnabled,
	}
	if d.CreationDateTime != nil {
		out["CreationDateTime"] = d.CreationDateTime.Unix()
	}
	if d.BillingModeSummary != nil {
		out["BillingModeSummary"] = map[string]any{"BillingMode": d.BillingModeSummary.BillingMode}
	}
	var gsis []map[string]any
	for _, g := range d.GlobalSecondaryIndexes {
		gsis = append(gsis, map[string]any{"IndexName": g.IndexName, "IndexArn": g.IndexArn, "IndexStatus": g.IndexStatus, "KeySchema": g.KeySchema,
			"Projection": map[string]any{"ProjectionType": g.Projection.ProjectionType}, "ProvisionedThroughput": throughput(g.ProvisionedThroughput)})
	}
	if gsis != nil {
		out["GlobalSecondaryIndexes"] = gsis
	}
	return out
}

func listTables(ctx context.Context, t Tables, body []byte) (any, error) {
	var in struct {
		ExclusiveStartTableName *string
		Limit                   *int32
	}
	if err := decodeDynamo(body, &in, nil); err != nil {
		return nil, err
	}
	out, err := t.ListTables(ctx, &dynamodb.ListTablesInput{ExclusiveStartTableName: in.ExclusiveStartTableName, Limit: in.Limit})
	if err != nil {
		return nil, dynamoErr(err)
	}
	res := map[string]any{"TableNames": out.TableNames}
	if out.LastEvaluatedTableName != nil {
		res["LastEvaluatedTableName"] = out.LastEvaluatedTableName
	}
	return res, nil
}
