package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/tidwall/gjson"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// StoreOptions configure the store handler.
type StoreOptions struct {
	// Table is the DynamoDB table name.
	Table string `json:"table"`
	// Key maps key attribute names to templates, e.g.
	// {"pk": "order#{{data.orderId}}", "sk": "state"}.
	Key map[string]string `json:"key"`
	// Version names a numeric data field that orders updates of one item
	// (e.g. "data.version"); without it the event time orders them.
	Version string `json:"version,omitempty"`
	// TTLDays sets expiresAt on the item (0: never expires).
	TTLDays int `json:"ttlDays,omitempty"`
}

// StoreAPI is the part of the DynamoDB client the store handler uses.
type StoreAPI interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Store writes the latest state of an entity: one item per key, holding the
// event's data fields plus its identity. The write is conditional on the item
// being older (a smaller version, or an earlier event time), so a stale or
// replayed event never overwrites a newer one and a duplicate is detected by
// the same condition: one conditional PutItem per event, with idempotency
// folded into it (no separate idempotency record).
type Store struct {
	api     StoreAPI
	opt     StoreOptions
	keys    map[string]template
	now     func() time.Time
	version string // data path of the version field
	// The request's constant parts, shared by every PutItem (read only).
	table, condition *string
	names            map[string]string
}

// NewStore builds a store handler.
func NewStore(api StoreAPI, opt StoreOptions) (*Store, error) {
	if opt.Table == "" {
		return nil, errors.New("options.table: required")
	}
	if len(opt.Key) == 0 {
		return nil, errors.New(`options.key: required, e.g. {"pk": "order#{{data.orderId}}"}`)
	}
	s := &Store{api: api, opt: opt, keys: map[string]template{}, now: time.Now}
	for attr, tpl := range opt.Key {
		t, err := parseTemplate(tpl)
		if err != nil {
			return nil, fmt.Errorf("options.key.%s: %w", attr, err)
		}
		s.keys[attr] = t
	}
	if opt.Version != "" {
		v, ok := strings.CutPrefix(opt.Version, "data.")
		if !ok {
			return nil, fmt.Errorf("options.version: %q must name a data field (data.<path>)", opt.Version)
		}
		s.version = v
	}
	var anyKey string // the condition names one key attribute: any of them is absent exactly when the item is
	for attr := range s.keys {
		anyKey = attr
		break
	}
	s.table = aws.String(opt.Table)
	s.condition = aws.String("attribute_not_exists(#k) OR eventOrder < :o")
	s.names = map[string]string{"#k": anyKey}
	return s, nil
}

func newStore(_ context.Context, deps Deps, options json.RawMessage) (delivery.Handler, error) {
	var o StoreOptions
	if err := decodeOptions(options, &o); err != nil {
		return nil, err
	}
	if err := need("store", map[string]bool{"DynamoDB": deps.DynamoDB != nil}); err != nil {
		return nil, err
	}
	return NewStore(deps.DynamoDB, o)
}

// ManagesDuplicates marks Store as detecting duplicates in its own write.
func (s *Store) ManagesDuplicates() {}

// Handle implements delivery.Handler.
func (s *Store) Handle(ctx context.Context, e *ce.Event) error {
	extra := len(s.keys) + 4 // the keys, eventId, eventSource, eventType, eventOrder
	if s.opt.TTLDays > 0 {
		extra++ // expiresAt
	}
	var item map[string]types.AttributeValue
	if e.DataMediaType() == "application/json" && len(e.Data()) > 0 {
		av, err := jsonItem(e.Data(), extra)
		if err != nil {
			if de := (decodeError{}); errors.As(err, &de) {
				return delivery.Permanentf("store: data of event %s is not a JSON object: %v", e.ID(), de.error)
			}
			return delivery.Permanentf("store: event %s: %v", e.ID(), err)
		}
		item = av
	} else {
		item = make(map[string]types.AttributeValue, extra)
	}
	for attr, t := range s.keys {
		v, err := t.render(e)
		if err != nil {
			return delivery.Permanentf("store: key %s: %v", attr, err)
		}
		item[attr] = &types.AttributeValueMemberS{Value: v}
	}
	order, err := s.order(e)
	if err != nil {
		return delivery.Permanent(err)
	}
	item["eventId"] = &types.AttributeValueMemberS{Value: e.ID()}
	item["eventSource"] = &types.AttributeValueMemberS{Value: e.Source()}
	item["eventType"] = &types.AttributeValueMemberS{Value: e.Type()}
	item["eventOrder"] = &types.AttributeValueMemberN{Value: order}
	if s.opt.TTLDays > 0 {
		item["expiresAt"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Add(time.Duration(s.opt.TTLDays)*24*time.Hour).Unix(), 10)}
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                s.table,
		Item:                     item,
		ConditionExpression:      s.condition,
		ExpressionAttributeNames: s.names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": &types.AttributeValueMemberN{Value: order},
		},
	})
	if err != nil {
		if ccf := (*types.ConditionalCheckFailedException)(nil); errors.As(err, &ccf) {
			return delivery.ErrSkip // a duplicate, or older than what is stored
		}
		return fmt.Errorf("store: table %s: %w", s.opt.Table, err)
	}
	return nil
}

// order is the number that orders updates of one item.
func (s *Store) order(e *ce.Event) (string, error) {
	if s.version != "" {
		r := gjson.GetBytes(e.Data(), s.version)
		if r.Type != gjson.Number {
			return "", fmt.Errorf("store: event %s has no numeric data.%s (options.version)", e.ID(), s.version)
		}
		return r.Raw, nil
	}
	if e.Time().IsZero() {
		return "", fmt.Errorf("store: event %s has no time to order updates by; set options.version", e.ID())
	}
	return strconv.FormatInt(e.Time().UnixNano(), 10), nil
}
