// Package route matches events against EventBridge event patterns and maps
// matching patterns to named handlers.
//
// The matcher implements EventBridge's documented pattern language: exact
// values (strings, numbers, booleans, null, ""), any-element matching on event
// arrays, nested fields, prefix, suffix, equals-ignore-case (alone and inside
// prefix/suffix), wildcard, anything-but (value, list, prefix, suffix,
// wildcard, equals-ignore-case), numeric ranges, exists, cidr (IPv4 and IPv6)
// and $or. Patterns are compiled once; a Set shares one field index among many
// patterns so that an event is flattened once however many patterns test it.
package route

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
)

// PatternError reports an invalid event pattern.
type PatternError struct {
	// Path is the pattern field at fault, dotted (e.g. "detail.state").
	Path string
	// Reason says what is wrong.
	Reason string
}

func (e *PatternError) Error() string {
	if e.Path == "" {
		return "invalid event pattern: " + e.Reason
	}
	return fmt.Sprintf("invalid event pattern: field %q: %s", e.Path, e.Reason)
}

func perr(path []string, format string, args ...any) *PatternError {
	return &PatternError{Path: strings.Join(path, "."), Reason: fmt.Sprintf(format, args...)}
}

// pattern is a conjunction: every field condition and every $or must hold.
type pattern struct {
	fields []field
	ors    [][]*pattern
}

// field tests the leaf values at one path: any alternative may match.
type field struct {
	path int // index into the Set's path table
	alts []matcher
}

// compile parses a pattern document into p, registering paths in s.
func (s *Set) compile(doc []byte) (*pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &PatternError{Reason: "not valid JSON: " + err.Error()}
	}
	if len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		return nil, &PatternError{Reason: "trailing data after the pattern object"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &PatternError{Reason: "a pattern must be a JSON object"}
	}
	if len(obj) == 0 {
		return nil, &PatternError{Reason: "a pattern must match on at least one field"}
	}
	return s.compileObject(nil, obj)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *Set) compileObject(path []string, obj map[string]any) (*pattern, error) {
	p := &pattern{}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return nil, perr(path, "$or takes an array of at least two patterns")
			}
			var or []*pattern
			for i, a := range alts {
				sub, ok := a.(map[string]any)
				if !ok || len(sub) == 0 {
					return nil, perr(path, "$or[%d] must be a non-empty pattern object", i)
				}
				sp, err := s.compileObject(path, sub)
				if err != nil {
					return nil, err
				}
				or = append(or, sp)
			}
			p.ors = append(p.ors, or)
			continue
		}
		fp := append(append([]string(nil), path...), k)
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				return nil, perr(fp, "an empty object matches nothing")
			}
			sub, err := s.compileObject(fp, v)
			if err != nil {
				return nil, err
			}
			p.fields = append(p.fields, sub.fields...)
			p.ors = append(p.ors, sub.ors...)
		case []any:
			if len(v) == 0 {
				return nil, perr(fp, "an empty array matches nothing; give at least one value")
			}
			f := field{path: s.paths.intern(fp)}
			for _, item := range v {
				m, err := compileValue(fp, item)
				if err != nil {
					return nil, err
				}
				f.alts = append(f.alts, m)
			}
			p.fields = append(p.fields, f)
		default:
			return nil, perr(fp, "match values must be in an array (or be a nested object), got %s", describe(v))
		}
	}
	return p, nil
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", v)
	case json.Number:
		return "number " + v.String()
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "an array"
	}
	return "an object"
}

func number(path []string, n json.Number) (float64, error) {
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, perr(path, "number %s is out of range", n)
	}
	return f, nil
}

// compileValue compiles one element of a match array.
func compileValue(path []string, v any) (matcher, error) {
	switch v := v.(type) {
	case nil:
		return matchNull{}, nil
	case string:
		return matchString(v), nil
	case bool:
		return matchBool(v), nil
	case json.Number:
		f, err := number(path, v)
		return matchNumber(f), err
	case []any:
		return nil, perr(path, "match arrays cannot contain arrays")
	}
	op := v.(map[string]any)
	if len(op) != 1 {
		return nil, perr(path, "a matching operator object must have exactly one key, got %d", len(op))
	}
	for name, arg := range op {
		return compileOperator(path, name, arg)
	}
	panic("unreachable")
}

func compileOperator(path []string, name string, arg any) (matcher, error) {
	switch name {
	case "prefix", "suffix":
		return compileAffix(path, name, arg)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return nil, perr(path, "equals-ignore-case takes a string, got %s", describe(arg))
		}
		return matchFold(s), nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return nil, perr(path, "wildcard takes a string, got %s", describe(arg))
		}
		w, err := compileWildcard(path, s)
		return w, err
	case "anything-but":
		return compileAnythingBut(path, arg)
	case "numeric":
		return compileNumeric(path, arg)
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return nil, perr(path, "exists takes true or false, got %s", describe(arg))
		}
		return matchExists(b), nil
	case "cidr":
		s, ok := arg.(string)
		if !ok {
			return nil, perr(path, "cidr takes a string such as \"10.0.0.0/24\", got %s", describe(arg))
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, perr(path, "cidr %q is not an IPv4 or IPv6 CIDR block: %v", s, err)
		}
		return matchCIDR{pfx.Masked()}, nil
	}
	return nil, perr(path, "unknown matching operator %q (known: prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)", name)
}

// compileAffix compiles prefix and suffix, each either a string or
// {"equals-ignore-case": string}.
func compileAffix(path []string, name string, arg any) (matcher, error) {
	fold := false
	s, ok := arg.(string)
	if !ok {
		obj, isObj := arg.(map[string]any)
		if isObj && len(obj) == 1 {
			s, ok = obj["equals-ignore-case"].(string)
			fold = ok
		}
		if !ok {
			return nil, perr(path, "%s takes a string or {\"equals-ignore-case\": string}, got %s", name, describe(arg))
		}
	}
	if name == "prefix" {
		return matchPrefix{s, fold}, nil
	}
	return matchSuffix{s, fold}, nil
}

// compileWildcard validates a wildcard pattern: '*' matches any run of
// characters, "\*" is a literal star and "\\" a literal backslash; any other
// escape and consecutive unescaped stars are rejected, as EventBridge does.
func compileWildcard(path []string, s string) (matchWildcard, error) {
	var w matchWildcard
	var cur strings.Builder
	lastStar := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return w, perr(path, "wildcard %q: a backslash must escape '*' or '\\'", s)
			}
			cur.WriteByte(s[i+1])
			i++
			lastStar = false
		case '*':
			if lastStar {
				return w, perr(path, "wildcard %q: consecutive '*' characters are not allowed", s)
			}
			w.segs = append(w.segs, cur.String())
			cur.Reset()
			lastStar = true
		default:
			cur.WriteByte(c)
			lastStar = false
		}
	}
	w.segs = append(w.segs, cur.String())
	return w, nil
}

func compileAnythingBut(path []string, arg any) (matcher, error) {
	switch a := arg.(type) {
	case string:
		return notStrings{a}, nil
	case json.Number:
		f, err := number(path, a)
		return notNumbers{f}, err
	case []any:
		if len(a) == 0 {
			return nil, perr(path, "anything-but needs at least one value")
		}
		switch a[0].(type) {
		case string:
			var out notStrings
			for _, x := range a {
				s, ok := x.(string)
				if !ok {
					return nil, perr(path, "anything-but lists must hold only strings or only numbers")
				}
				out = append(out, s)
			}
			return out, nil
		case json.Number:
			var out notNumbers
			for _, x := range a {
				n, ok := x.(json.Number)
				if !ok {
					return nil, perr(path, "anything-but lists must hold only strings or only numbers")
				}
				f, err := number(path, n)
				if err != nil {
					return nil, err
				}
				out = append(out, f)
			}
			return out, nil
		}
		return nil, perr(path, "anything-but lists must hold only strings or only numbers")
	case map[string]any:
		if len(a) != 1 {
			return nil, perr(path, "anything-but takes one of prefix, suffix, wildcard or equals-ignore-case")
		}
		for name, v := range a {
			switch name {
			case "prefix", "suffix":
				s, ok := v.(string)
				if !ok || s == "" {
					return nil, perr(path, "anything-but %s takes a non-empty string, got %s", name, describe(v))
				}
				if name == "prefix" {
					return not{matchPrefix{s, false}}, nil
				}
				return not{matchSuffix{s, false}}, nil
			case "wildcard", "equals-ignore-case":
				list, err := stringOrList(path, "anything-but "+name, v)
				if err != nil {
					return nil, err
				}
				var alts anyOf
				for _, s := range list {
					if name == "wildcard" {
						w, err := compileWildcard(path, s)
						if err != nil {
							return nil, err
						}
						alts = append(alts, w)
					} else {
						alts = append(alts, matchFold(s))
					}
				}
				return not{alts}, nil
			}
			return nil, perr(path, "anything-but does not take %q (known: prefix, suffix, wildcard, equals-ignore-case)", name)
		}
	}
	return nil, perr(path, "anything-but takes a string, a number, a list of them, or an object, got %s", describe(arg))
}

func stringOrList(path []string, what string, v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, perr(path, "%s needs at least one string", what)
		}
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, perr(path, "%s takes strings, got %s", what, describe(x))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, perr(path, "%s takes a string or a list of strings, got %s", what, describe(v))
}

// compileNumeric compiles ["op", n] or ["op", n, "op", n] with one lower
// (">", ">=") and one upper ("<", "<=") bound; "=" stands alone.
func compileNumeric(path []string, arg any) (matcher, error) {
	a, ok := arg.([]any)
	if !ok || (len(a) != 2 && len(a) != 4) {
		return nil, perr(path, `numeric takes [op, number] or [op, number, op, number], e.g. [">", 0, "<=", 5]`)
	}
	r := matchRange{lo: math.Inf(-1), hi: math.Inf(1)}
	seenLo, seenHi := false, false
	for i := 0; i < len(a); i += 2 {
		op, ok := a[i].(string)
		if !ok {
			return nil, perr(path, "numeric operator must be a string, got %s", describe(a[i]))
		}
		n, ok := a[i+1].(json.Number)
		if !ok {
			return nil, perr(path, "numeric operand of %q must be a number, got %s", op, describe(a[i+1]))
		}
		f, err := number(path, n)
		if err != nil {
			return nil, err
		}
		switch op {
		case "=":
			if len(a) != 2 {
				return nil, perr(path, `numeric "=" cannot be combined with another operator`)
			}
			r.lo, r.hi = f, f
			seenLo, seenHi = true, true
		case ">", ">=":
			if seenLo {
				return nil, perr(path, "numeric has two lower bounds")
			}
			r.lo, r.loOpen, seenLo = f, op == ">", true
		case "<", "<=":
			if seenHi {
				return nil, perr(path, "numeric has two upper bounds")
			}
			r.hi, r.hiOpen, seenHi = f, op == "<", true
		default:
			return nil, perr(path, "unknown numeric operator %q (known: =, <, <=, >, >=)", op)
		}
	}
	if r.lo > r.hi || r.lo == r.hi && (r.loOpen || r.hiOpen) {
		return nil, perr(path, "numeric range is empty")
	}
	return r, nil
}
