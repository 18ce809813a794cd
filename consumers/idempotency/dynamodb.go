package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBAPI is the part of the DynamoDB client the store uses.
type DynamoDBAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoDB keeps records in a table with a string hash key "pk" and TTL on
// "expiresAt" (the topology's idempotency table). One conditional write per
// transition: Begin is a PutItem that succeeds only if no live record exists,
// Complete and Release are conditional on the claim token.
type DynamoDB struct {
	api   DynamoDBAPI
	table string
	now   func() time.Time
}

// NewDynamoDB returns a store on table.
func NewDynamoDB(api DynamoDBAPI, table string) *DynamoDB {
	return &DynamoDB{api: api, table: table, now: time.Now}
}

const (
	statusInProgress = "IN_PROGRESS"
	statusCompleted  = "COMPLETED"
)

func num(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// Begin implements Store.
func (d *DynamoDB) Begin(ctx context.Context, key, token string, lease time.Duration) (State, time.Time, error) {
	now := d.now()
	leaseEnd := now.Add(lease)
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			"pk": str(key), "status": str(statusInProgress), "token": str(token),
			"leaseUntil": num(leaseEnd), "expiresAt": num(leaseEnd.Add(24 * time.Hour)),
		},
		// A key is free if it has no record, if its lease expired, or if its
		// completed marker expired (TTL deletion can lag by days).
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#s = :inprog AND leaseUntil < :now) OR (#s = :done AND expiresAt < :now)"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprog": str(statusInProgress), ":done": str(statusCompleted), ":now": num(now),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Claimed, time.Time{}, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return 0, time.Time{}, fmt.Errorf("dynamodb %s: %w", d.table, err)
	}
	if s, ok := ccf.Item["status"].(*types.AttributeValueMemberS); ok && s.Value == statusCompleted {
		return Done, time.Time{}, nil
	}
	var until time.Time
	if n, ok := ccf.Item["leaseUntil"].(*types.AttributeValueMemberN); ok {
		if secs, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			until = time.Unix(secs, 0)
		}
	}
	return Busy, until, nil
}

// Extend implements Store: a conditional update of the lease, on the token.
func (d *DynamoDB) Extend(ctx context.Context, key, token string, lease time.Duration) error {
	end := d.now().Add(lease)
	_, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.table),
		Key:                      map[string]types.AttributeValue{"pk": str(key)},
		UpdateExpression:         aws.String("SET leaseUntil = :until, expiresAt = :exp"),
		ConditionExpression:      aws.String("#t = :token AND #s = :inprog"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#t": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inprog": str(statusInProgress), ":token": str(token), ":until": num(end), ":exp": num(end.Add(24 * time.Hour)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("dynamodb %s: %w", d.table, err)
	}
	return nil
}

// Complete implements Store.
func (d *DynamoDB) Complete(ctx context.Context, key, token string, ttl time.Duration) error {
	_, err := d.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(d.table),
		Key:                      map[string]types.AttributeValue{"pk": str(key)},
		UpdateExpression:         aws.String("SET #s = :done, expiresAt = :exp REMOVE leaseUntil"),
		ConditionExpression:      aws.String("#t = :token AND #s = :inprog"),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#t": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": str(statusCompleted), ":inprog": str(statusInProgress), ":token": str(token), ":exp": num(d.now().Add(ttl)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("dynamodb %s: %w", d.table, err)
	}
	return nil
}

// Release implements Store.
func (d *DynamoDB) Release(ctx context.Context, key, token string) error {
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{"pk": str(key)},
		ConditionExpression:       aws.String("#t = :token AND #s = :inprog"),
		ExpressionAttributeNames:  map[string]string{"#s": "status", "#t": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":token": str(token), ":inprog": str(statusInProgress)},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("dynamodb %s: %w", d.table, err)
	}
	return nil
}
