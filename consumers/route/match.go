package route

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

type kind uint8

const (
	kString kind = iota
	kNumber
	kTrue
	kFalse
	kNull
)

// value is one leaf value of a flattened event.
type value struct {
	kind kind
	s    string
	n    float64
}

// matcher tests one leaf value. exists is special-cased by field.match.
type matcher interface {
	match(v *value) bool
}

type (
	matchString string
	matchNumber float64
	matchBool   bool
	matchNull   struct{}
	matchFold   string
	matchExists bool
	matchPrefix struct {
		s    string
		fold bool
	}
	matchSuffix struct {
		s    string
		fold bool
	}
	matchWildcard struct{ segs []string }
	matchRange    struct {
		lo, hi         float64
		loOpen, hiOpen bool
	}
	matchCIDR  struct{ p netip.Prefix }
	notStrings []string
	notNumbers []float64
	not        struct{ m matcher }
	anyOf      []matcher
)

func (m matchString) match(v *value) bool { return v.kind == kString && v.s == string(m) }
func (m matchNumber) match(v *value) bool { return v.kind == kNumber && v.n == float64(m) }
func (m matchBool) match(v *value) bool {
	return bool(m) && v.kind == kTrue || !bool(m) && v.kind == kFalse
}
func (matchNull) match(v *value) bool { return v.kind == kNull }
func (m matchFold) match(v *value) bool {
	return v.kind == kString && strings.EqualFold(v.s, string(m))
}
func (m matchExists) match(*value) bool { return bool(m) }

func (m matchPrefix) match(v *value) bool {
	if v.kind != kString {
		return false
	}
	if m.fold {
		return hasPrefixFold(v.s, m.s)
	}
	return strings.HasPrefix(v.s, m.s)
}

func (m matchSuffix) match(v *value) bool {
	if v.kind != kString {
		return false
	}
	if m.fold {
		return hasSuffixFold(v.s, m.s)
	}
	return strings.HasSuffix(v.s, m.s)
}

// match: segs are the literal runs between stars; a pattern without stars is
// one segment that must equal the value.
func (m matchWildcard) match(v *value) bool {
	if v.kind != kString {
		return false
	}
	s, segs := v.s, m.segs
	if len(segs) == 1 {
		return s == segs[0]
	}
	if !strings.HasPrefix(s, segs[0]) {
		return false
	}
	s = s[len(segs[0]):]
	last := segs[len(segs)-1]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

func (m matchRange) match(v *value) bool {
	if v.kind != kNumber {
		return false
	}
	n := v.n
	if n < m.lo || m.loOpen && n == m.lo {
		return false
	}
	return n < m.hi || !m.hiOpen && n == m.hi
}

func (m matchCIDR) match(v *value) bool {
	if v.kind != kString {
		return false
	}
	a, err := netip.ParseAddr(v.s)
	return err == nil && m.p.Contains(a.Unmap())
}

// anything-but matches any value that is not excluded; values of another
// type than the excluded ones are not excluded.
func (m notStrings) match(v *value) bool {
	if v.kind != kString {
		return true
	}
	for _, s := range m {
		if v.s == s {
			return false
		}
	}
	return true
}

func (m notNumbers) match(v *value) bool {
	if v.kind != kNumber {
		return true
	}
	for _, n := range m {
		if v.n == n {
			return false
		}
	}
	return true
}

// not negates string operators (anything-but prefix/suffix/wildcard/
// equals-ignore-case): non-string values pass.
func (m not) match(v *value) bool { return v.kind != kString || !m.m.match(v) }

func (m anyOf) match(v *value) bool {
	for _, x := range m {
		if x.match(v) {
			return true
		}
	}
	return false
}

// match evaluates the conjunction p over the flattened values.
func (p *pattern) match(fv *flat) bool {
	for i := range p.fields {
		if !p.fields[i].match(fv) {
			return false
		}
	}
	for _, or := range p.ors {
		ok := false
		for _, alt := range or {
			if alt.match(fv) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (f *field) match(fv *flat) bool {
	head := fv.head[f.path]
	for _, alt := range f.alts {
		if e, ok := alt.(matchExists); ok {
			// exists applies to leaf values: present means at least one.
			if bool(e) == (head >= 0) {
				return true
			}
			continue
		}
		for i := head; i >= 0; i = fv.next[i] {
			if alt.match(&fv.vals[i]) {
				return true
			}
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		if !equalFoldRune(r1, r2) {
			return false
		}
		s, prefix = s[n1:], prefix[n2:]
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		r1, n1 := utf8.DecodeLastRuneInString(s)
		r2, n2 := utf8.DecodeLastRuneInString(suffix)
		if !equalFoldRune(r1, r2) {
			return false
		}
		s, suffix = s[:len(s)-n1], suffix[:len(suffix)-n2]
	}
	return true
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
