// Package route matches events against EventBridge event patterns and maps
// matching patterns to named handlers.
//
// The matcher implements EventBridge's documented pattern language: exact
// values (strings, numbers, booleans, null, ""), any-element matching on event
// arrays, nested fields, prefix, suffix, equals-ignore-case (alone and inside
// prefix/suffix), wildcard, anything-but (value, list, prefix, suffix,
// wildcard, equals-ignore-case), numeric ranges, exists, cidr (IPv4 and IPv6)
// and $or. Fields inside an array of objects match together only within one
// element, and of two conditions on one field the last counts, as in
// EventBridge. Patterns are compiled once; a Set flattens an event once
// however many patterns test it, and indexes its patterns by the values they
// require, so that an event evaluates only the patterns it can match.
package route

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/eventplane/eventplane/consumers/jsonscan"
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

// pattern is what one event pattern compiles to: a disjunction of rules,
// each a conjunction of field conditions. $or is expanded at compile time
// into one rule per combination of its branches, as EventBridge's own
// compiler (event-ruler) does; the Set indexes rules, not patterns.
type pattern struct {
	rules []rule
}

// rule is a conjunction: every field must hold. No two fields share a path.
type rule struct {
	fields []field
}

// field tests the leaf values at one path: any alternative may match.
type field struct {
	path int // index into the Set's path table
	alts []matcher
	// absentOK: an {"exists": false} alternative; presentOK: {"exists":
	// true}; vals: the alternatives that test a value.
	absentOK, presentOK bool
	vals                []matcher
}

// maxRules bounds the combinations a pattern's $or operators expand to.
const maxRules = 1000

// object is a JSON object with its members in document order: which of two
// conditions on one field counts depends on which comes last.
type object []member

type member struct {
	key string
	val any
}

// decodeOrdered decodes the next JSON value, objects as object and numbers
// as json.Number.
func decodeOrdered(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= jsonscan.MaxNesting {
		return nil, fmt.Errorf("nested deeper than %d", jsonscan.MaxNesting)
	}
	if d == '{' {
		obj := object{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec, depth+1)
			if err != nil {
				return nil, err
			}
			obj = append(obj, member{kt.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	}
	arr := []any{}
	for dec.More() {
		v, err := decodeOrdered(dec, depth+1)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
	_, err = dec.Token()
	return arr, err
}

// plain turns ordered objects into maps (the last of duplicate keys wins),
// for the operator objects inside match arrays.
func plain(v any) any {
	switch v := v.(type) {
	case object:
		m := make(map[string]any, len(v))
		for _, mb := range v {
			m[mb.key] = plain(mb.val)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	}
	return v
}

// compile parses a pattern document, registering paths in s.
func (s *Set) compile(doc []byte) (*pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := decodeOrdered(dec, 0)
	if err != nil {
		return nil, &PatternError{Reason: "not valid JSON: " + err.Error()}
	}
	if len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		return nil, &PatternError{Reason: "trailing data after the pattern object"}
	}
	obj, ok := v.(object)
	if !ok {
		return nil, &PatternError{Reason: "a pattern must be a JSON object"}
	}
	if len(obj) == 0 {
		return nil, &PatternError{Reason: "a pattern must match on at least one field"}
	}
	rules, err := s.expand([]rule{{}}, nil, obj)
	if err != nil {
		return nil, err
	}
	return &pattern{rules: rules}, nil
}

func copyRules(rules []rule) []rule {
	out := make([]rule, len(rules))
	for i, r := range rules {
		out[i].fields = append([]field(nil), r.fields...)
	}
	return out
}

// put sets f in r: a later condition on the same path replaces an earlier
// one. EventBridge: "If multiple patterns are specified for the same JSON
// field, EventBridge only uses the last one" (Event pattern syntax,
// docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html);
// that holds across $or too, since each branch is compiled as the fields
// before it plus its own.
func (r *rule) put(f field) {
	for i := range r.fields {
		if r.fields[i].path == f.path {
			r.fields[i] = f
			return
		}
	}
	r.fields = append(r.fields, f)
}

// expand applies the members of obj, in document order, to every rule.
func (s *Set) expand(rules []rule, path []string, obj object) ([]rule, error) {
	for _, mb := range obj {
		k, v := mb.key, mb.val
		if k == "$or" {
			alts, ok := v.([]any)
			if !ok || len(alts) < 2 {
				return nil, perr(path, "$or takes an array of at least two patterns")
			}
			var out []rule
			for i, a := range alts {
				sub, ok := a.(object)
				if !ok || len(sub) == 0 {
					return nil, perr(path, "$or[%d] must be a non-empty pattern object", i)
				}
				branch, err := s.expand(copyRules(rules), path, sub)
				if err != nil {
					return nil, err
				}
				out = append(out, branch...)
				if len(out) > maxRules {
					return nil, perr(path, "$or combinations expand to more than %d alternatives", maxRules)
				}
			}
			rules = out
			continue
		}
		// "when EventBridge compiles event patterns for use, it uses dot
		// (.) as the joining character" (eb-create-pattern.html): the
		// key "a.b" is the path a, b, as {"a": {"b": ...}} is.
		fp := append(path[:len(path):len(path)], strings.Split(k, ".")...)
		switch v := v.(type) {
		case object:
			if len(v) == 0 {
				return nil, perr(fp, "an empty object matches nothing")
			}
			var err error
			if rules, err = s.expand(rules, fp, v); err != nil {
				return nil, err
			}
		case []any:
			if len(v) == 0 {
				return nil, perr(fp, "an empty array matches nothing; give at least one value")
			}
			f := field{path: s.paths.intern(fp)}
			for _, item := range v {
				m, err := compileValue(fp, plain(item))
				if err != nil {
					return nil, err
				}
				f.alts = append(f.alts, m)
				switch e := m.(type) {
				case matchExists:
					if e {
						f.presentOK = true
					} else {
						f.absentOK = true
					}
				default:
					f.vals = append(f.vals, m)
				}
			}
			for i := range rules {
				rules[i].put(f)
			}
		default:
			return nil, perr(fp, "match values must be in an array (or be a nested object), got %s", describe(plain(v)))
		}
	}
	return rules, nil
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
		// Exact numbers compare as text: "For numbers, EventBridge uses
		// string representation. For example, 300, 300.0, and 3.0e2 are not
		// considered equal" (eb-create-pattern.html); numeric compares
		// values.
		_, err := number(path, v)
		return matchNumber(v.String()), err
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
