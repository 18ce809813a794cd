package local

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

func TestItemRoundTrip(t *testing.T) {
	item := map[string]types.AttributeValue{
		"s":     &types.AttributeValueMemberS{Value: "quote \" backslash \\ newline \n tab \t é"},
		"n":     &types.AttributeValueMemberN{Value: "-12.5"}, // stored as DynamoDB keeps it (ddbjson.CanonicalNumber)
		"b":     &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"bool":  &types.AttributeValueMemberBOOL{Value: true},
		"null":  &types.AttributeValueMemberNULL{Value: true},
		"ss":    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":    &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":    &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
		"l":     &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}}},
		"m":     &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberBOOL{Value: false}}},
		"empty": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
	raw, err := encodeItem(item)
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeItem(raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if !reflect.DeepEqual(item, back) {
		t.Errorf("round trip changed the item:\n%#v\n%#v\n%s", item, back, raw)
	}
}

func TestExpressions(t *testing.T) {
	item := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "a"}, "status": &types.AttributeValueMemberS{Value: "done"},
		"n": &types.AttributeValueMemberN{Value: "10"},
	}
	env := exprEnv{names: map[string]string{"#s": "status"}, values: map[string]types.AttributeValue{
		":done": &types.AttributeValueMemberS{Value: "done"}, ":nine": &types.AttributeValueMemberN{Value: "9.5"},
	}}
	for expr, want := range map[string]bool{
		"attribute_exists(pk)":                         true,
		"attribute_not_exists(pk) OR n > :nine":        true,
		"#s = :done AND NOT (n <= :nine)":              true,
		"n < :nine":                                    false,
		"missing = :done":                              false,
		"missing <> :done":                             false,
		"(#s <> :done) OR (attribute_not_exists(zzz))": true,
	} {
		got, err := evalCondition(expr, item, env)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", expr, got, err, want)
		}
	}
	for expr, msg := range map[string]string{
		"begins_with(pk, :done)": "not supported",
		"#nope = :done":          "#nope is not defined",
		"pk = :nope":             ":nope is not defined",
		"a.b = :done":            "top-level names only",
		"pk = :done AND":         "",
	} {
		if _, err := evalCondition(expr, item, env); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: err = %v, want an error containing %q", expr, err, msg)
		}
	}
	if err := applyUpdate("SET #s = :done, x = :nine REMOVE n", item, env); err != nil {
		t.Fatal(err)
	}
	if _, ok := item["n"]; ok || item["x"] == nil {
		t.Errorf("after update: %v", item)
	}
	if err := applyUpdate("ADD n :nine", item, env); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("ADD: err = %v", err)
	}
}

func TestEnvelopeIsTheEventBridgeShape(t *testing.T) {
	at := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	doc, err := envelope("id-1", ebtypes.PutEventsRequestEntry{Source: aws.String(`shop "eu"`), DetailType: aws.String("order\nplaced"),
		Detail: aws.String(` {"total": 5}`), Resources: []string{"arn:a", "arn:b"}, Time: &at})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(doc, &got); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	want := map[string]any{"version": "0", "id": "id-1", "detail-type": "order\nplaced", "source": `shop "eu"`, "account": "000000000000",
		"time": "2026-11-26T17:00:00Z", "region": "local", "resources": []any{"arn:a", "arn:b"}, "detail": map[string]any{"total": 5.0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("envelope = %v, want %v", got, want)
	}
	for _, bad := range []string{`[1]`, `{"a":`, `"x"`} {
		if _, err := envelope("x", ebtypes.PutEventsRequestEntry{Detail: aws.String(bad)}); err == nil {
			t.Errorf("detail %s accepted", bad)
		}
	}
}
