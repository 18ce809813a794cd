package event

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// The lookups below read validated JSON with jsonscan and answer what the
// gjson calls they replaced answered (gjsonref_test.go keeps those as the
// reference; FuzzMemberPath and FuzzNormalizeAgreesWithGJSON compare).

// member returns the raw value of the first member of the object obj named
// key; "" when there is none or obj is not an object.
func member(obj, key string) string {
	m := jsonscan.ObjectMembers(obj)
	for m.Next() {
		if m.Key == key {
			return m.Value
		}
	}
	return ""
}

// memberPath follows keys through nested objects, as a dotted gjson path
// did: the first match in document order wins, and a member whose value
// lacks the rest of the path does not end the search (a later member of the
// same name is tried). Arrays hold no named members: "" there.
func memberPath(obj string, keys ...string) string {
	if len(keys) == 0 {
		return obj
	}
	key, rest := keys[0], keys[1:] //nolint:gosec // G602: len(keys) > 0 is checked above
	m := jsonscan.ObjectMembers(obj)
	for m.Next() {
		if m.Key != key {
			continue
		}
		if len(rest) == 0 {
			return m.Value
		}
		if v := memberPath(m.Value, rest...); v != "" {
			return v
		}
	}
	return ""
}

// first keeps the first value given for a member (gjson's Get semantics).
func first(dst *string, raw string) {
	if *dst == "" {
		*dst = raw
	}
}

// stringOf returns a string value decoded, "" for any other value (gjson's
// Result.Str).
func stringOf(raw string) string {
	s, _ := jsonscan.String(raw)
	return s
}

// truthy is how isBase64Encoded has always been read (gjson's Result.Bool):
// true, a number other than 0, or a string strconv.ParseBool accepts in any
// case.
func truthy(raw string) bool {
	switch {
	case raw == "true":
		return true
	case raw == "":
		return false
	case raw[0] == '"':
		b, _ := strconv.ParseBool(strings.ToLower(stringOf(raw)))
		return b
	case isNumber(raw):
		f, _ := strconv.ParseFloat(raw, 64)
		return f != 0
	}
	return false
}

func isNumber(raw string) bool {
	return raw != "" && (raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9')
}

// integer converts a JSON number as API Gateway's epoch has always been
// converted (gjson's Result.Int): exactly up to 2^53, else as an integer
// literal saturated to int64, else the float truncated and saturated.
func integer(raw string) int64 {
	f, _ := strconv.ParseFloat(raw, 64)
	if f >= -9007199254740991 && f <= 9007199254740991 {
		return int64(f)
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return n // saturated on overflow, as gjson's parseInt
	}
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f < math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
