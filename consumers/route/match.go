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

// value is one leaf value of a flattened event. A number holds its JSON
// text in s (exact matching compares text) and its value in n.
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
	matchNumber string // the number's JSON text
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
func (m matchNumber) match(v *value) bool { return v.kind == kNumber && v.s == string(m) }
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

// first returns the first value that satisfies f on its own, absent when
// f holds because the path has no value, or none.
func (f *field) first(fv *flat) int32 {
	head := fv.head[f.path]
	if head < 0 {
		if f.absentOK {
			return absent
		}
		return none
	}
	if f.presentOK {
		return head
	}
	for i := head; i >= 0; i = fv.next[i] {
		if f.test(&fv.vals[i]) {
			return i
		}
	}
	return none
}

const (
	none   = -1
	absent = -2
)

// test reports whether the value v satisfies one of f's value alternatives
// (exists: true accepts any value).
func (f *field) test(v *value) bool {
	if f.presentOK {
		return true
	}
	for _, m := range f.vals {
		if m.match(v) {
			return true
		}
	}
	return false
}

// match reports whether every field of r holds with values that are
// array-consistent: no two of them come from different elements of the
// same array. That is event-ruler's rule for JSON events ("will refuse to
// recognize any match in which any two fields are within JSON objects that
// are in different elements of the same array", github.com/aws/event-ruler
// README, JSON Array Matching); EventBridge's documentation states no rule
// of its own but documents event-ruler's compiler behaviour as its own (the
// dot-joined keys in eb-create-pattern.html).
func (r *rule) match(fv *flat) bool {
	// Each field on its own first: most rules fail here, cheaply. If the
	// first values found are consistent with each other, that is a match.
	var firsts [8]int32
	n, consistent := 0, true
	for i := range r.fields {
		v := r.fields[i].first(fv)
		if v == none {
			return false
		}
		if v == absent || !consistent {
			continue
		}
		c := fv.ctx[v]
		if c < 0 {
			continue
		}
		if n == len(firsts) {
			consistent = false
			continue
		}
		for _, o := range firsts[:n] {
			if !fv.consistent(c, o) {
				consistent = false
				break
			}
		}
		firsts[n] = c
		n++
	}
	return consistent || r.search(fv, 0, fv.chosen[:0])
}

// search tries the values of fields[k:] against the array elements of the
// values chosen so far (chosen holds their contexts).
func (r *rule) search(fv *flat, k int, chosen []int32) bool {
	if k == len(r.fields) {
		return true
	}
	f := &r.fields[k]
	head := fv.head[f.path]
	if head < 0 {
		return f.absentOK && r.search(fv, k+1, chosen)
	}
	for i := head; i >= 0; i = fv.next[i] {
		if !f.test(&fv.vals[i]) {
			continue
		}
		c := fv.ctx[i]
		if c < 0 {
			// Outside every array: consistent with any choice, so no
			// other value of this field can do better.
			return r.search(fv, k+1, chosen)
		}
		ok := true
		for _, o := range chosen {
			if !fv.consistent(c, o) {
				ok = false
				break
			}
		}
		if ok && r.search(fv, k+1, append(chosen, c)) {
			return true
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
