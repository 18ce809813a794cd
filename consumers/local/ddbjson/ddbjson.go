// Package ddbjson reads and writes DynamoDB's JSON form of items
// ({"pk":{"S":"a"},"n":{"N":"1"}}): the wire form of the DynamoDB API
// (AWS JSON 1.0) and the stored form of the local platform's tables. The
// SDK keeps its own codec unexported, so this is written here, once.
package ddbjson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is an item (or key) that marshals to and from DynamoDB's JSON form.
// Unmarshalling checks it as DynamoDB checks a request's values: exactly
// one data type per value, numbers that parse, non-empty sets without
// duplicates.
type Item map[string]types.AttributeValue

// UnmarshalJSON reads a request's item.
func (it *Item) UnmarshalJSON(b []byte) error {
	m, err := decode(b, true)
	if err != nil {
		return err
	}
	*it = m
	return nil
}

// MarshalJSON writes an item.
func (it Item) MarshalJSON() ([]byte, error) { return AppendItem(nil, it) }

// DecodeItem reads a stored item (checked for its shape only).
func DecodeItem(raw []byte) (map[string]types.AttributeValue, error) {
	return decode(raw, false)
}

func decode(raw []byte, strict bool) (map[string]types.AttributeValue, error) {
	var m map[string]value
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("item: %w", err)
	}
	out := make(map[string]types.AttributeValue, len(m))
	for k, a := range m {
		v, err := a.attributeValue(strict)
		if err != nil {
			return nil, &InvalidError{Attribute: k, Err: err}
		}
		out[k] = v
	}
	return out, nil
}

// InvalidError is a value DynamoDB would refuse (ValidationException).
type InvalidError struct {
	Attribute string
	Err       error
}

func (e *InvalidError) Error() string { return "attribute " + e.Attribute + ": " + e.Err.Error() }

func (e *InvalidError) Unwrap() error { return e.Err }

// value is one attribute value in DynamoDB's JSON form.
type value struct {
	S    *string          `json:"S"`
	N    *string          `json:"N"`
	B    []byte           `json:"B"` // base64 in JSON
	BOOL *bool            `json:"BOOL"`
	NULL *bool            `json:"NULL"`
	L    []value          `json:"L"`
	M    map[string]value `json:"M"`
	SS   []string         `json:"SS"`
	NS   []string         `json:"NS"`
	BS   [][]byte         `json:"BS"`
}

func (a value) attributeValue(strict bool) (types.AttributeValue, error) {
	set := 0
	for _, present := range []bool{a.S != nil, a.N != nil, a.B != nil, a.BOOL != nil, a.NULL != nil,
		a.L != nil, a.M != nil, a.SS != nil, a.NS != nil, a.BS != nil} {
		if present {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, fmt.Errorf("supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case set > 1:
		return nil, fmt.Errorf("supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	switch {
	case a.S != nil:
		return &types.AttributeValueMemberS{Value: *a.S}, nil
	case a.N != nil:
		if strict {
			n, err := CanonicalNumber(*a.N)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberN{Value: n}, nil
		}
		return &types.AttributeValueMemberN{Value: *a.N}, nil
	case a.B != nil:
		return &types.AttributeValueMemberB{Value: a.B}, nil
	case a.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *a.BOOL}, nil
	case a.NULL != nil:
		if !*a.NULL && strict {
			return nil, fmt.Errorf("NULL must be true")
		}
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case a.SS != nil:
		return &types.AttributeValueMemberSS{Value: a.SS}, checkSet(strict, a.SS, func(s string) (string, error) { return s, nil })
	case a.NS != nil:
		if err := checkSet(strict, a.NS, CanonicalNumber); err != nil || !strict {
			return &types.AttributeValueMemberNS{Value: a.NS}, err
		}
		ns := make([]string, len(a.NS))
		for i, n := range a.NS {
			ns[i], _ = CanonicalNumber(n) // checked by checkSet
		}
		return &types.AttributeValueMemberNS{Value: ns}, nil
	case a.BS != nil:
		return &types.AttributeValueMemberBS{Value: a.BS}, checkSet(strict, a.BS, func(b []byte) (string, error) { return string(b), nil })
	case a.L != nil:
		l := make([]types.AttributeValue, len(a.L))
		for i, e := range a.L {
			v, err := e.attributeValue(strict)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l[i] = v
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	}
	m := make(map[string]types.AttributeValue, len(a.M))
	for k, e := range a.M {
		v, err := e.attributeValue(strict)
		if err != nil {
			return nil, fmt.Errorf(".%s: %w", k, err)
		}
		m[k] = v
	}
	return &types.AttributeValueMemberM{Value: m}, nil
}

// checkSet checks a set as DynamoDB does: not empty, no duplicates.
func checkSet[E any](strict bool, set []E, key func(E) (string, error)) error {
	if !strict {
		return nil
	}
	if len(set) == 0 {
		return fmt.Errorf("an attribute value of a set type must not be empty")
	}
	seen := map[string]bool{}
	for _, e := range set {
		k, err := key(e)
		if err != nil {
			return err
		}
		if seen[k] {
			return fmt.Errorf("input collection contains duplicates")
		}
		seen[k] = true
	}
	return nil
}

// Number checks a number as DynamoDB takes it: a decimal of up to 38
// significant digits, magnitude between 1E-130 and 9.9999999999999999999999999999999999999E+125.
func Number(s string) error {
	_, err := CanonicalNumber(s)
	return err
}

// CanonicalNumber checks a number as Number does and returns it as DynamoDB
// keeps and returns it: in DynamoDB a number is its value ("leading and
// trailing zeroes are trimmed", the developer guide's Number data type), so
// "1.0", "01" and "1e0" are all "1", "1.5E2" is "150", "-0" is "0". Two
// numbers are equal exactly when their canonical texts are.
func CanonicalNumber(s string) (string, error) {
	if canonical(s) {
		return s, nil
	}
	f, ok := new(big.Float).SetPrec(256).SetString(s)
	if !ok || s == "" || strings.Trim(s, "0123456789+-.eE") != "" {
		return "", fmt.Errorf("the parameter cannot be converted to a numeric value: %q", s)
	}
	digits := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, mantissa(s)), "0")
	if len(strings.TrimRight(digits, "0")) > 38 {
		return "", fmt.Errorf("attempting to store more than 38 significant digits in a Number: %q", s)
	}
	if f.Sign() == 0 {
		return "0", nil
	}
	if e := f.MantExp(nil); f.IsInf() || e > 420 || e < -433 { // 2^420 > 1E126, 2^-433 < 1E-130: a first bound on the exponent
		return "", fmt.Errorf("number %q overflows or underflows DynamoDB's range (1E-130 to 9.9E125)", s)
	}
	// The value is sign * digits * 10^exp, in decimal (no binary rounding).
	neg := s[0] == '-'
	m := strings.TrimLeft(mantissa(s), "+-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, _ = strconv.Atoi(s[i+1:]) // in range: checked above
	}
	whole, frac, _ := strings.Cut(m, ".")
	exp -= len(frac)
	digits = strings.TrimLeft(whole+frac, "0")
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	// |value| = 0.digits * 10^point: in DynamoDB's range when 1E-130 <=
	// |value| < 1E126 (the binary check above only bounds the exponent).
	if point := len(digits) + exp; point > 126 || point < -129 {
		return "", fmt.Errorf("number %q overflows or underflows DynamoDB's range (1E-130 to 9.9E125)", s)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch point := len(digits) + exp; {
	case exp >= 0:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", exp))
	case point > 0:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	}
	return b.String(), nil
}

// canonical reports whether s is already a number in CanonicalNumber's
// form with at most 38 digits: an optional "-", digits without a leading
// zero (or "0" before a point), an optional point with digits not ending
// in zero; not "0" negated. The common case (integers) costs one pass.
func canonical(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start, point, digits := i, -1, 0
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && point < 0:
			point = i
		default:
			return false
		}
	}
	switch {
	case digits == 0 || digits > 38 || point == start || point == len(s)-1:
		return false
	case s[start] == '0' && len(s)-start > 1 && point != start+1: // a leading zero
		return false
	case point > 0 && s[len(s)-1] == '0': // a trailing zero after the point
		return false
	case s[start] == '0' && point < 0: // "0", "-0"
		return start == 0
	case s[start] == '0' && strings.Trim(s[start:], "0.") == "": // "0.0..." is not canonical anyway
		return false
	}
	// 0.000...1 below 1E-130 or more than 38 digits counting zeros after the
	// point are left to the full check.
	return point < 0 || len(s)-point-1 <= 38
}

func mantissa(s string) string {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}

// AppendItem appends an item in DynamoDB's JSON form, without reflection:
// the local tables write one on every write.
func AppendItem(b []byte, m map[string]types.AttributeValue) ([]byte, error) {
	b = append(b, '{')
	first := true
	for k, v := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = AppendValue(b, v); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
	}
	return append(b, '}'), nil
}

func appendStrings(b []byte, tag string, ss []string) []byte {
	b = append(b, `{"`+tag+`":[`...)
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, "]}"...)
}

// AppendValue appends one attribute value in DynamoDB's JSON form.
func AppendValue(b []byte, v types.AttributeValue) ([]byte, error) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return append(AppendString(append(b, `{"S":`...), x.Value), '}'), nil
	case *types.AttributeValueMemberN:
		// As DynamoDB keeps a number: its value's text (a number that is
		// not one is written as it is; requests are checked when decoded).
		n := x.Value
		if c, err := CanonicalNumber(n); err == nil {
			n = c
		}
		return append(AppendString(append(b, `{"N":`...), n), '}'), nil
	case *types.AttributeValueMemberB:
		return append(AppendString(append(b, `{"B":`...), base64.StdEncoding.EncodeToString(x.Value)), '}'), nil
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			return append(b, `{"BOOL":true}`...), nil
		}
		return append(b, `{"BOOL":false}`...), nil
	case *types.AttributeValueMemberNULL:
		return append(b, `{"NULL":true}`...), nil
	case *types.AttributeValueMemberSS:
		return appendStrings(b, "SS", x.Value), nil
	case *types.AttributeValueMemberNS:
		return appendStrings(b, "NS", x.Value), nil
	case *types.AttributeValueMemberBS:
		ss := make([]string, 0, len(x.Value))
		for _, e := range x.Value {
			ss = append(ss, base64.StdEncoding.EncodeToString(e))
		}
		return appendStrings(b, "BS", ss), nil
	case *types.AttributeValueMemberL:
		b = append(b, `{"L":[`...)
		for i, e := range x.Value {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = AppendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, "]}"...), nil
	case *types.AttributeValueMemberM:
		b = append(b, `{"M":`...)
		b, err := AppendItem(b, x.Value)
		if err != nil {
			return nil, err
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("attribute value of type %T is not supported", v)
}

// AppendString appends s as a JSON string (without reflection).
func AppendString(b []byte, s string) []byte {
	const hexdigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Size is an item's size as DynamoDB counts it against the 400 KB item
// limit: the UTF-8 lengths of the attribute names and values, a number's
// about (significant digits / 2) + 1 bytes, one byte for a BOOL or NULL,
// 3 bytes plus one per element for a list or map (DynamoDB developer
// guide, "Item sizes and formats").
func Size(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	num := func(s string) int { return len(strings.Trim(mantissa(s), "-+0."))/2 + 1 }
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return num(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberSS:
		return sum(x.Value, func(s string) int { return len(s) })
	case *types.AttributeValueMemberNS:
		return sum(x.Value, num)
	case *types.AttributeValueMemberBS:
		return sum(x.Value, func(b []byte) int { return len(b) })
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(x.Value) + Size(x.Value)
	}
	return 1
}

func sum[E any](xs []E, size func(E) int) int {
	n := 0
	for _, x := range xs {
		n += size(x)
	}
	return n
}
