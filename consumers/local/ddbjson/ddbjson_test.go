package ddbjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventplane/eventplane/consumers/local/ddbjson"
)

// A request's values are checked as DynamoDB checks them; each refusal
// names what is wrong and is an *InvalidError (a ValidationException on
// the wire).
func TestRequestValuesAreCheckedAsDynamoDBDoes(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":{}}`:                   "empty",
		`{"a":{"S":"x","N":"1"}}`:    "more than one",
		`{"a":{"N":"1x"}}`:           "numeric",
		`{"a":{"N":"0x10"}}`:         "numeric",
		`{"a":{"N":"Inf"}}`:          "numeric",
		`{"a":{"N":"1e1000000000"}}`: "range",
		`{"a":{"N":"1e200"}}`:        "range",
		`{"a":{"N":"123456789012345678901234567890123456789"}}`: "38 significant digits",
		`{"a":{"NS":["1","1.0"]}}`:                              "duplicates",
		`{"a":{"SS":[]}}`:                                       "empty",
		`{"a":{"NULL":false}}`:                                  "NULL must be true",
		`{"a":{"L":[{"M":{"b":{}}}]}}`:                          "empty",
	} {
		var it ddbjson.Item
		err := json.Unmarshal([]byte(body), &it)
		var ie *ddbjson.InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) || ie.Attribute != "a" {
			t.Errorf("%s: %v, want an InvalidError of attribute a naming %q", body, err, want)
		}
	}
	var it ddbjson.Item
	if err := json.Unmarshal([]byte(`{"a":{"N":"-1.5E-3"},"b":{"N":"12345678901234567890123456789012345678000"}}`), &it); err != nil {
		t.Errorf("valid numbers refused: %v", err)
	}
}

// Stored items written before the strict checks still read (a stored empty
// set is kept, not refused).
func TestStoredItemsReadLeniently(t *testing.T) {
	item, err := ddbjson.DecodeItem([]byte(`{"s":{"SS":[]},"b":{"B":"AAEC"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := item["b"].(*types.AttributeValueMemberB); !ok || string(b.Value) != "\x00\x01\x02" {
		t.Errorf("B: %#v", item["b"])
	}
}

// Size counts as DynamoDB's item size does: names and values in UTF-8
// bytes, numbers by their significant digits.
func TestSize(t *testing.T) {
	item := map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "héllo"},                                                           // 2 + 6
		"n":  &types.AttributeValueMemberN{Value: "12345"},                                                           // 1 + 5/2+1
		"ok": &types.AttributeValueMemberBOOL{Value: true},                                                           // 2 + 1
		"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "ab"}}}, // 1 + 3 + 1 + 2
	}
	if got, want := ddbjson.Size(item), 8+4+3+7; got != want {
		t.Errorf("Size %d, want %d", got, want)
	}
}

// CanonicalNumber is the text DynamoDB returns for a number: its value with
// leading and trailing zeroes trimmed and no exponent; equal numbers have
// one text. The fast path for text already in that form agrees with the
// full conversion.
func TestCanonicalNumberIsTheValuesText(t *testing.T) {
	for in, want := range map[string]string{
		"1": "1", "1.0": "1", "01": "1", "1e0": "1", "+1": "1", "10e-1": "1", "0.1e1": "1",
		"0": "0", "-0": "0", "0.000": "0", "0e5": "0",
		"1.5E2": "150", "-12.5e3": "-12500", "00042": "42", "-0.0250": "-0.025", ".5": "0.5", "5.": "5",
		"1e-3": "0.001", "12.50": "12.5", "100": "100", "-7": "-7", "0.5": "0.5",
		"12345678901234567890123456789012345678": "12345678901234567890123456789012345678",
		"1E38":                                   "100000000000000000000000000000000000000",
		// DynamoDB's range: positive 1E-130 to 9.9999999999999999999999999999999999999E+125
		// (Developer Guide, "Supported data types and naming rules").
		"9.9999999999999999999999999999999999999E+125": "99999999999999999999999999999999999999" + strings.Repeat("0", 88),
		"1E-130":  "0." + strings.Repeat("0", 129) + "1",
		"-1E-130": "-0." + strings.Repeat("0", 129) + "1",
	} {
		got, err := ddbjson.CanonicalNumber(in)
		if err != nil || got != want {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
		if again, _ := ddbjson.CanonicalNumber(got); again != got {
			t.Errorf("CanonicalNumber(%q) = %q: not a fixed point", got, again)
		}
	}
	for _, bad := range []string{"", "-", ".", "1e", "abc", "1..2", "--1", "1e999", "123456789012345678901234567890123456789",
		"1E126", "1.2E126", "-1E126", "9e-131", "5e-131", "0.99E-130"} {
		if got, err := ddbjson.CanonicalNumber(bad); err == nil {
			t.Errorf("CanonicalNumber(%q) = %q, want an error", bad, got)
		}
	}
}
