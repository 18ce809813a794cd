package local

import (
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The embedded tables evaluate the DynamoDB expression language the
// platform's handlers write: condition and filter expressions (comparisons
// = <> < <= > >=, AND, OR, NOT, parentheses, attribute_exists,
// attribute_not_exists, #name and :value placeholders) and update
// expressions (SET a = :v, ... REMOVE b, ...). Anything else is an error
// naming what is not supported, never a silent misreading.
//
// Why not a library: github.com/truora/minidyn (MIT, maintained; compared at
// v0.8.2) has an interpreter package — stdlib and its own types only — that
// evaluates far more of the language (BETWEEN, IN, begins_with, contains,
// size, attribute_type, nested paths and list indexes, ADD/DELETE, key and
// projection expressions). It is not used here because it evaluates over its
// own SDK-v1-shaped *types.Item tree, not the aws-sdk-go-v2
// types.AttributeValue union the bbolt tables store: its v2 mapping is
// unexported inside its in-memory client, so each evaluation would need a
// mapper of ours converting the item and values in and back; and its go.mod
// brings testcontainers-go and the Docker client (for its own end-to-end
// tests) into our module graph. The platform's handlers write only the
// subset above. If the DynamoDB API over these tables (consumers/local/awsapi)
// needs more of the language, swap in minidyn's interpreter behind
// evalCondition and applyUpdate with such a mapper rather than growing this
// parser.

type exprEnv struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

type tokens struct {
	toks []string
	pos  int
	src  string
}

// lexed keeps the tokens of the expressions seen (a handler sends the same
// few with every write; lexing them again was a fifth of the allocations of
// a conditional PutItem), up to maxLexed of them: the tokens are read only.
var (
	lexed      sync.Map // expression -> []string
	lexedCount atomic.Int32
)

const maxLexed = 1024

func lex(src string) (*tokens, error) {
	if toks, ok := lexed.Load(src); ok {
		return &tokens{toks: toks.([]string), src: src}, nil
	}
	toks, err := lexTokens(src)
	if err != nil {
		return nil, err
	}
	if lexedCount.Add(1) <= maxLexed {
		lexed.Store(src, toks)
	}
	return &tokens{toks: toks, src: src}, nil
}

func lexTokens(src string) ([]string, error) {
	var out []string
	for i := 0; i < len(src); {
		c := rune(src[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("(),=", c):
			out = append(out, string(c))
			i++
		case c == '<' || c == '>':
			if i+1 < len(src) && (src[i+1] == '=' || (c == '<' && src[i+1] == '>')) {
				out = append(out, src[i:i+2])
				i += 2
			} else {
				out = append(out, string(c))
				i++
			}
		case c == '#' || c == ':' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c):
			j := i + 1
			for j < len(src) && (src[j] == '_' || src[j] == '.' || unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j]))) {
				j++
			}
			out = append(out, src[i:j])
			i = j
		default:
			return nil, fmt.Errorf("expression %q: unsupported character %q at %d", src, c, i)
		}
	}
	return out, nil
}

func (t *tokens) peek() string {
	if t.pos < len(t.toks) {
		return t.toks[t.pos]
	}
	return ""
}

func (t *tokens) next() string { s := t.peek(); t.pos++; return s }

func (t *tokens) expect(s string) error {
	if got := t.next(); !strings.EqualFold(got, s) {
		return fmt.Errorf("expression %q: want %q, got %q", t.src, s, got)
	}
	return nil
}

// evalCondition reports whether item satisfies expr ("" is true).
func evalCondition(expr string, item map[string]types.AttributeValue, env exprEnv) (bool, error) {
	if strings.TrimSpace(expr) == "" {
		return true, nil
	}
	t, err := lex(expr)
	if err != nil {
		return false, err
	}
	ok, err := parseOr(t, item, env)
	if err != nil {
		return false, err
	}
	if t.pos != len(t.toks) {
		return false, fmt.Errorf("expression %q: unexpected %q", expr, t.peek())
	}
	return ok, nil
}

func parseOr(t *tokens, item map[string]types.AttributeValue, env exprEnv) (bool, error) {
	v, err := parseAnd(t, item, env)
	for err == nil && strings.EqualFold(t.peek(), "OR") {
		t.next()
		var w bool
		w, err = parseAnd(t, item, env)
		v = v || w
	}
	return v, err
}

func parseAnd(t *tokens, item map[string]types.AttributeValue, env exprEnv) (bool, error) {
	v, err := parseNot(t, item, env)
	for err == nil && strings.EqualFold(t.peek(), "AND") {
		t.next()
		var w bool
		w, err = parseNot(t, item, env)
		v = v && w
	}
	return v, err
}

func parseNot(t *tokens, item map[string]types.AttributeValue, env exprEnv) (bool, error) {
	if strings.EqualFold(t.peek(), "NOT") {
		t.next()
		v, err := parseNot(t, item, env)
		return !v, err
	}
	return parsePrimary(t, item, env)
}

func parsePrimary(t *tokens, item map[string]types.AttributeValue, env exprEnv) (bool, error) {
	switch tok := t.peek(); {
	case tok == "(":
		t.next()
		v, err := parseOr(t, item, env)
		if err != nil {
			return false, err
		}
		return v, t.expect(")")
	case tok == "attribute_exists" || tok == "attribute_not_exists":
		t.next()
		if err := t.expect("("); err != nil {
			return false, err
		}
		name, err := env.path(t.next())
		if err != nil {
			return false, err
		}
		if err := t.expect(")"); err != nil {
			return false, err
		}
		_, has := item[name]
		return has == (tok == "attribute_exists"), nil
	}
	if t.pos+1 < len(t.toks) && t.toks[t.pos+1] == "(" {
		return false, fmt.Errorf("expression %q: function %s is not supported (attribute_exists, attribute_not_exists)", t.src, t.peek())
	}
	left, err := env.operand(t.next(), item)
	if err != nil {
		return false, err
	}
	op := t.next()
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
	default: // refused before a missing attribute could make it false
		return false, fmt.Errorf("expression %q: unsupported operator %q (supported: = <> < <= > >= AND OR NOT attribute_exists attribute_not_exists)", t.src, op)
	}
	right, err := env.operand(t.next(), item)
	if err != nil {
		return false, err
	}
	if left == nil || right == nil {
		return false, nil // a missing attribute compares false
	}
	c, comparable := compare(left, right)
	switch op {
	case "=":
		return comparable && c == 0, nil
	case "<>":
		return !comparable || c != 0, nil
	case "<":
		return comparable && c < 0, nil
	case "<=":
		return comparable && c <= 0, nil
	case ">":
		return comparable && c > 0, nil
	}
	return comparable && c >= 0, nil // >=
}

// path resolves an attribute name (#placeholder or plain; no nested paths).
func (env exprEnv) path(tok string) (string, error) {
	if strings.HasPrefix(tok, "#") {
		n, ok := env.names[tok]
		if !ok {
			return "", fmt.Errorf("expression attribute name %s is not defined", tok)
		}
		return n, nil
	}
	if tok == "" || strings.ContainsAny(tok, ".[") || strings.HasPrefix(tok, ":") {
		return "", fmt.Errorf("attribute path %q is not supported (top-level names only)", tok)
	}
	return tok, nil
}

func (env exprEnv) operand(tok string, item map[string]types.AttributeValue) (types.AttributeValue, error) {
	if strings.HasPrefix(tok, ":") {
		v, ok := env.values[tok]
		if !ok {
			return nil, fmt.Errorf("expression attribute value %s is not defined", tok)
		}
		return v, nil
	}
	name, err := env.path(tok)
	if err != nil {
		return nil, err
	}
	return item[name], nil
}

// compare orders two scalar values of one type (N numerically, S and B
// bytewise, BOOL equal or not).
func compare(a, b types.AttributeValue) (int, bool) {
	switch x := a.(type) {
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return 0, false
		}
		fx, _, err1 := big.ParseFloat(x.Value, 10, 128, big.ToNearestEven)
		fy, _, err2 := big.ParseFloat(y.Value, 10, 128, big.ToNearestEven)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return fx.Cmp(fy), true
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return 0, false
		}
		return strings.Compare(x.Value, y.Value), true
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		if !ok {
			return 0, false
		}
		return strings.Compare(string(x.Value), string(y.Value)), true
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		if !ok || x.Value != y.Value {
			return 1, ok
		}
		return 0, true
	}
	return 0, false
}

// applyUpdate applies "SET a = :v, #b = :w REMOVE c, d" to item.
func applyUpdate(expr string, item map[string]types.AttributeValue, env exprEnv) error {
	t, err := lex(expr)
	if err != nil {
		return err
	}
	for t.pos < len(t.toks) {
		switch clause := strings.ToUpper(t.next()); clause {
		case "SET":
			for {
				name, err := env.path(t.next())
				if err != nil {
					return err
				}
				if err := t.expect("="); err != nil {
					return err
				}
				v, err := env.operand(t.next(), item)
				if err != nil {
					return err
				}
				if v == nil {
					return fmt.Errorf("update %q: SET %s from a missing attribute", expr, name)
				}
				item[name] = v
				if t.peek() != "," {
					break
				}
				t.next()
			}
		case "REMOVE":
			for {
				name, err := env.path(t.next())
				if err != nil {
					return err
				}
				delete(item, name)
				if t.peek() != "," {
					break
				}
				t.next()
			}
		default:
			return fmt.Errorf("update expression %q: clause %q is not supported (SET, REMOVE)", expr, clause)
		}
	}
	return nil
}
