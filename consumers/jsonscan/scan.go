// Package jsonscan validates JSON held in strings and walks objects and arrays
// without allocating: values come back as raw JSON text pointing into the
// input. Why hand-written: gjson validates in a separate pass and its ForEach
// takes a closure, which moves everything it captures to the heap on every
// call; encoding/json decodes into structs through reflection. On the hot path
// of the normalizer (an SNS-wrapped EventBridge event) this is the difference
// measured by BenchmarkNormalize. The scanner is fuzzed against encoding/json
// (FuzzScanner).
package jsonscan

import (
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxNesting bounds the depth of objects and arrays.
const MaxNesting = 512

// Members iterates over the members of a JSON object, validating each value
// as it goes:
//
//	m := jsonscan.ObjectMembers(doc)
//	for m.Next() { use(m.Key, m.Value) }
//	if !m.Complete() { /* doc was not one well-formed object */ }
type Members struct {
	s     string
	i     int
	first bool
	bad   bool
	// Key is the member's name (unescaped); Value its raw JSON text.
	Key, Value string
}

// ObjectMembers starts iterating over the object obj.
func ObjectMembers(obj string) Members {
	m := Members{s: obj, first: true}
	m.i = skipSpace(obj, 0)
	if m.i >= len(obj) || obj[m.i] != '{' {
		m.bad = true
		return m
	}
	m.i++
	return m
}

// Next advances to the next member; it returns false at the end of the
// object or at the first malformed byte.
func (m *Members) Next() bool {
	if m.bad || m.i > len(m.s) {
		return false
	}
	s := m.s
	i := skipSpace(s, m.i)
	if i < len(s) && s[i] == '}' {
		m.i = len(s) + 1 // done
		m.bad = skipSpace(s, i+1) != len(s)
		return false
	}
	if !m.first {
		if i >= len(s) || s[i] != ',' {
			m.bad = true
			return false
		}
		i = skipSpace(s, i+1)
	}
	m.first = false
	end, ok := scanString(s, i)
	if !ok {
		m.bad = true
		return false
	}
	m.Key, _ = String(s[i:end])
	i = skipSpace(s, end)
	if i >= len(s) || s[i] != ':' {
		m.bad = true
		return false
	}
	i = skipSpace(s, i+1)
	vend, ok := scanValue(s, i, 1)
	if !ok {
		m.bad = true
		return false
	}
	m.Value = s[i:vend]
	m.i = vend
	return true
}

// End returns the offset in the object just after the current member's
// value (so the value starts at End() - len(Value)).
func (m *Members) End() int { return m.i }

// Complete reports whether the whole object was read and was well-formed,
// with nothing but white space after it.
func (m *Members) Complete() bool { return !m.bad && m.i == len(m.s)+1 }

// Elements iterates over the elements of an array that is already known to
// be valid JSON (for example a value yielded by Members).
type Elements struct {
	s string
	i int
	// Value is the element's raw JSON text.
	Value string
}

// ArrayElements starts iterating over the array arr.
func ArrayElements(arr string) Elements {
	e := Elements{s: arr, i: len(arr)}
	if i := skipSpace(arr, 0); i < len(arr) && arr[i] == '[' {
		e.i = i + 1
	}
	return e
}

// Next advances to the next element.
func (e *Elements) Next() bool {
	s := e.s
	i := skipSpace(s, e.i)
	if i < len(s) && s[i] == ',' {
		i = skipSpace(s, i+1)
	}
	if i >= len(s) || s[i] == ']' {
		e.i = len(s)
		return false
	}
	end, ok := scanValue(s, i, 1)
	if !ok {
		e.i = len(s)
		return false
	}
	e.Value = s[i:end]
	e.i = end
	return true
}

// Valid reports whether s is exactly one JSON value (with surrounding white
// space).
func Valid(s string) bool {
	i := skipSpace(s, 0)
	end, ok := scanValue(s, i, 0)
	return ok && skipSpace(s, end) == len(s)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanValue validates the JSON value at s[i] and returns the index after it.
func scanValue(s string, i, depth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; {
	case c == '"':
		end, ok := scanString(s, i)
		return end, ok
	case c == '{':
		if depth >= MaxNesting {
			return i, false
		}
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1, true
		}
		for {
			end, ok := scanString(s, i)
			if !ok {
				return end, false
			}
			i = skipSpace(s, end)
			if i >= len(s) || s[i] != ':' {
				return i, false
			}
			if i, ok = scanValue(s, skipSpace(s, i+1), depth+1); !ok {
				return i, false
			}
			i = skipSpace(s, i)
			if i >= len(s) {
				return i, false
			}
			if s[i] == '}' {
				return i + 1, true
			}
			if s[i] != ',' {
				return i, false
			}
			i = skipSpace(s, i+1)
		}
	case c == '[':
		if depth >= MaxNesting {
			return i, false
		}
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = scanValue(s, i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(s, i)
			if i >= len(s) {
				return i, false
			}
			if s[i] == ']' {
				return i + 1, true
			}
			if s[i] != ',' {
				return i, false
			}
			i = skipSpace(s, i+1)
		}
	case c == 't':
		return literal(s, i, "true")
	case c == 'f':
		return literal(s, i, "false")
	case c == 'n':
		return literal(s, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(s, i)
	}
	return i, false
}

func literal(s string, i int, lit string) (int, bool) {
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit), true
	}
	return i, false
}

// scanNumber validates -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special reports (SWAR, eight bytes at once) whether w holds a byte that ends
// the fast path inside a string: a control character, '"' or '\\'.
func special(w uint64) uint64 {
	ctl := (w - lsb*0x20) & ^w & msb
	q := w ^ (lsb * '"')
	q = (q - lsb) & ^q & msb
	b := w ^ (lsb * '\\')
	b = (b - lsb) & ^b & msb
	return ctl | q | b
}

// scanString validates the JSON string at s[i] (s[i] == '"') and returns the
// index after its closing quote.
func scanString(s string, i int) (end int, ok bool) {
	if i >= len(s) || s[i] != '"' {
		return i, false
	}
	j := i + 1
	for {
		for j+8 <= len(s) {
			w := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
				uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
			if m := special(w); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
			j += 8
		}
		if j >= len(s) {
			return j, false
		}
		switch c := s[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(s) {
				return j, false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s) || !isHexAny(s[j+2:j+6]) {
					return j, false
				}
				j += 6
			default:
				return j, false
			}
		case c < 0x20:
			return j, false
		default:
			j++
		}
	}
}

func isHexAny(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// unescape decodes the body of a valid JSON string (between the quotes) the
// way encoding/json does: invalid UTF-16 surrogates and invalid UTF-8 become
// U+FFFD.
func unescape(body string) string {
	var b strings.Builder
	b.Grow(len(body))
	write := b.WriteString
	if !utf8.ValidString(body) {
		write = func(s string) (int, error) { writeUTF8(&b, s); return len(s), nil }
	}
	for {
		k := strings.IndexByte(body, '\\')
		if k < 0 {
			_, _ = write(body) // a strings.Builder never fails
			return b.String()
		}
		_, _ = write(body[:k])
		body = body[k:]
		if len(body) < 2 {
			return b.String()
		}
		switch c := body[1]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(body[2:6])
			body = body[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(body) >= 6 && body[0] == '\\' && body[1] == 'u' {
					r2 = hex4(body[2:6])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					body = body[6:]
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			b.WriteByte(c)
		}
		body = body[2:]
	}
}

// writeUTF8 copies s, replacing invalid UTF-8 with U+FFFD as encoding/json does.
func writeUTF8(b *strings.Builder, s string) {
	for _, r := range s {
		b.WriteRune(r)
	}
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// String decodes a raw JSON string value; ok is false if raw is not a string.
// Strings without escapes are returned without copying. Like encoding/json,
// it replaces invalid UTF-8 with U+FFFD.
func String(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 && utf8.ValidString(body) {
		return body, true
	}
	return unescape(body), true
}

// Kind names the JSON type of a raw value for error messages ("a string",
// "an object", ...).
func Kind(raw string) string {
	if raw == "" {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// IsNull reports whether raw is absent ("") or JSON null.
func IsNull(raw string) bool { return raw == "" || raw == "null" }

// SkipSpace returns the index of the first non-white-space byte at or after i.
func SkipSpace(s string, i int) int { return skipSpace(s, i) }
