package route

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventplane/eventplane/consumers/jsonscan"
)

// pathNode is a trie over field names: an event is walked only where some
// pattern looks, everything else is skipped without being decoded.
type pathNode struct {
	children map[string]*pathNode
	leaf     int // path index, or -1
}

type pathTable struct {
	root pathNode
	n    int
}

func (t *pathTable) intern(path []string) int {
	nd := &t.root
	for _, k := range path {
		if nd.children == nil {
			nd.children = map[string]*pathNode{}
		}
		c := nd.children[k]
		if c == nil {
			c = &pathNode{leaf: -1}
			nd.children[k] = c
		}
		nd = c
	}
	if nd.leaf < 0 {
		nd.leaf = t.n
		t.n++
	}
	return nd.leaf
}

// flat holds the leaf values of one event, chained per path, and the
// scratch state of one match.
type flat struct {
	vals  []value
	next  []int32
	paths []int32
	ctx   []int32 // per value: its innermost array element, or -1
	head  []int32
	// nodes are the array elements values sit in: an element is known by
	// its array and index, and by the element it is itself inside.
	nodes  []ctxNode
	arrays int32
	// Per match: rules already evaluated and patterns already reported
	// carry the current epoch.
	epoch    uint32
	ruleSeen []uint32
	patSeen  []uint32
	chosen   []int32
}

type ctxNode struct {
	parent, array, index, depth int32
}

func (f *flat) reset(s *Set) {
	f.vals, f.next, f.paths, f.ctx = f.vals[:0], f.next[:0], f.paths[:0], f.ctx[:0]
	f.nodes, f.arrays = f.nodes[:0], 0
	paths := s.paths.n
	if cap(f.head) < paths {
		f.head = make([]int32, paths)
	}
	f.head = f.head[:paths]
	for i := range f.head {
		f.head[i] = -1
	}
	f.epoch++
	if len(f.ruleSeen) < len(s.rules) || len(f.patSeen) < len(s.patterns) || f.epoch == 0 {
		f.ruleSeen = make([]uint32, len(s.rules))
		f.patSeen = make([]uint32, len(s.patterns))
		f.epoch = 1
	}
	if cap(f.chosen) < s.maxFields {
		f.chosen = make([]int32, 0, s.maxFields)
	}
}

func (f *flat) add(path int, v value, ctx int32) {
	f.vals = append(f.vals, v)
	f.next = append(f.next, f.head[path])
	f.paths = append(f.paths, int32(path)) // #nosec G115 -- path indexes of one compiled pattern set, far below 2^31
	f.ctx = append(f.ctx, ctx)
	f.head[path] = int32(len(f.vals) - 1) // #nosec G115 -- value indexes of one compiled pattern set, far below 2^31
}

// truncate drops the values added after the first n.
func (f *flat) truncate(n int) {
	for i := len(f.vals) - 1; i >= n; i-- {
		f.head[f.paths[i]] = f.next[i]
	}
	f.vals, f.next, f.paths, f.ctx = f.vals[:n], f.next[:n], f.paths[:n], f.ctx[:n]
}

// element records element index of array inside the element parent (-1:
// none) and returns it.
func (f *flat) element(parent, array, index int32) int32 {
	depth := int32(0)
	if parent >= 0 {
		depth = f.nodes[parent].depth + 1
	}
	f.nodes = append(f.nodes, ctxNode{parent, array, index, depth})
	return int32(len(f.nodes) - 1) // #nosec G115 -- node indexes of one compiled pattern set, far below 2^31
}

// consistent reports whether the elements a and b (both >= 0) never sit in
// different elements of one array: below their last common element, the
// first elements apart must belong to different arrays.
func (f *flat) consistent(a, b int32) bool {
	n := f.nodes
	for n[a].depth > n[b].depth {
		a = n[a].parent
	}
	for n[b].depth > n[a].depth {
		b = n[b].parent
	}
	if a == b {
		return true
	}
	for n[a].parent != n[b].parent {
		a, b = n[a].parent, n[b].parent
	}
	return n[a].array != n[b].array
}

// Set is a group of compiled patterns sharing one field index. Build it with
// Add, then match concurrently; Add must not run concurrently with matching.
type Set struct {
	paths     pathTable
	top       []topField // the root's children, for MatchEvent
	patterns  []*pattern
	rules     []indexedRule // every pattern's rules
	maxFields int
	index     index
	pool      sync.Pool
}

type indexedRule struct {
	rule
	pattern int32
}

type topField struct {
	name string
	node *pathNode
}

// NewSet returns an empty Set.
func NewSet() *Set {
	s := &Set{}
	s.paths.root.leaf = -1
	s.pool.New = func() any { return new(flat) }
	return s
}

// Add compiles an EventBridge event pattern and returns its index in the Set.
func (s *Set) Add(pattern []byte) (int, error) {
	p, err := s.compile(pattern)
	if err != nil {
		return -1, err
	}
	for _, r := range p.rules {
		s.index.add(int32(len(s.rules)), &r)                              // #nosec G115 -- rule indexes of one compiled set, far below 2^31
		s.rules = append(s.rules, indexedRule{r, int32(len(s.patterns))}) // #nosec G115 -- pattern indexes of one compiled set, far below 2^31
		s.maxFields = max(s.maxFields, len(r.fields))
	}
	s.patterns = append(s.patterns, p)
	s.top = s.top[:0]
	for name, nd := range s.paths.root.children {
		s.top = append(s.top, topField{name, nd})
	}
	return len(s.patterns) - 1, nil
}

// Len returns the number of patterns.
func (s *Set) Len() int { return len(s.patterns) }

// MatchJSON appends to dst the indexes of the patterns that match the JSON
// event doc (an EventBridge event, or any JSON object).
func (s *Set) MatchJSON(doc []byte, dst []int) ([]int, error) {
	return s.MatchString(string(doc), dst)
}

// MatchString is MatchJSON on a document held in a string (a queue message
// body): no copy of it is made.
func (s *Set) MatchString(str string, dst []int) ([]int, error) {
	if i := jsonscan.SkipSpace(str, 0); i == len(str) || str[i] != '{' {
		if jsonscan.Valid(str) {
			return dst, fmt.Errorf("event must be a JSON object, got %s", jsonscan.Kind(str[i:]))
		}
		return dst, fmt.Errorf("event is not valid JSON")
	}
	fv := s.pool.Get().(*flat)
	defer s.pool.Put(fv)
	fv.reset(s)
	if !walkObject(str, &s.paths.root, fv, -1) {
		return dst, fmt.Errorf("event is not valid JSON")
	}
	return s.collect(fv, dst), nil
}

// MatchEvent appends to dst the indexes of the patterns that match the
// CloudEvent e. Patterns see the event as its JSON format: the context
// attributes (specversion, id, source, type, subject, time, datacontenttype,
// dataschema, extensions) at the top level and the data, when it is JSON,
// under "data".
func (s *Set) MatchEvent(e *ce.Event, dst []int) []int {
	fv := s.pool.Get().(*flat)
	defer s.pool.Put(fv)
	fv.reset(s)
	var ext map[string]any
	if ec, ok := e.Context.(*ce.EventContextV1); ok {
		ext = ec.Extensions // read in place: e.Extensions() copies the map
	} else if e.Context != nil {
		ext = e.Extensions()
	}
	for _, f := range s.top {
		if f.name == "data" {
			addData(e, f.node, fv)
			continue
		}
		if f.node.leaf < 0 {
			continue
		}
		if v, ok := attribute(e, ext, f.name); ok {
			fv.add(f.node.leaf, v, -1)
		}
	}
	return s.collect(fv, dst)
}

// collect appends the patterns that match fv, in pattern order: the rules
// the index offers for the event's values, and those it files under no
// field, are evaluated.
func (s *Set) collect(fv *flat, dst []int) []int {
	if len(s.rules) < indexFrom {
		return s.collectEvery(fv, dst)
	}
	start := len(dst)
	for _, p := range s.index.paths {
		if fv.head[p] < 0 {
			continue
		}
		fi := s.index.byPath[p]
		dst = s.try(fv, fi.present, dst)
		for i := fv.head[p]; i >= 0; i = fv.next[i] {
			v := &fv.vals[i]
			dst = s.try(fv, fi.exact[exactKey{v.kind, v.s}], dst)
			if v.kind != kString {
				continue
			}
			for _, n := range fi.prefixLens {
				if n <= len(v.s) {
					dst = s.try(fv, fi.prefix[v.s[:n]], dst)
				}
			}
			for _, n := range fi.suffixLens {
				if n <= len(v.s) {
					dst = s.try(fv, fi.suffix[v.s[len(v.s)-n:]], dst)
				}
			}
		}
	}
	dst = s.try(fv, s.index.rest, dst)
	slices.Sort(dst[start:])
	return dst
}

// try evaluates the rules not yet evaluated in this match.
func (s *Set) try(fv *flat, rules []int32, dst []int) []int {
	for _, id := range rules {
		if fv.ruleSeen[id] == fv.epoch {
			continue
		}
		fv.ruleSeen[id] = fv.epoch
		r := &s.rules[id]
		if fv.patSeen[r.pattern] != fv.epoch && r.match(fv) {
			fv.patSeen[r.pattern] = fv.epoch
			dst = append(dst, int(r.pattern))
		}
	}
	return dst
}

// indexFrom is the number of rules from which collect consults the index:
// below it, looking values up costs more than evaluating every rule.
const indexFrom = 16

// collectEvery evaluates every rule: what small sets do, and the reference
// the index is tested against.
func (s *Set) collectEvery(fv *flat, dst []int) []int {
	for i, p := range s.patterns {
		for j := range p.rules {
			if p.rules[j].match(fv) {
				dst = append(dst, i)
				break
			}
		}
	}
	return dst
}

func str(s string) value { return value{kind: kString, s: s} }

func attribute(e *ce.Event, ext map[string]any, name string) (value, bool) {
	switch name {
	case "specversion":
		return str(e.SpecVersion()), true
	case "id":
		return str(e.ID()), true
	case "source":
		return str(e.Source()), true
	case "type":
		return str(e.Type()), true
	case "subject":
		s := e.Subject()
		return str(s), s != ""
	case "time":
		t := e.Time()
		return str(t.UTC().Format(time.RFC3339Nano)), !t.IsZero()
	case "datacontenttype":
		s := e.DataContentType()
		return str(s), s != ""
	case "dataschema":
		s := e.DataSchema()
		return str(s), s != ""
	}
	x, ok := ext[name]
	if !ok {
		return value{}, false
	}
	switch x := x.(type) {
	case string:
		return str(x), true
	case int32:
		return value{kind: kNumber, s: strconv.FormatInt(int64(x), 10), n: float64(x)}, true
	case bool:
		if x {
			return value{kind: kTrue}, true
		}
		return value{kind: kFalse}, true
	}
	s, err := types.Format(x)
	return str(s), err == nil
}

// addData flattens the event data: JSON data is walked, other text data is
// one string value, binary data gives nothing to match.
func addData(e *ce.Event, nd *pathNode, fv *flat) {
	if len(e.DataEncoded) == 0 || e.DataBase64 {
		return
	}
	// A read-only view, not a copy: the values taken from it live in fv only
	// until this match returns, and nothing writes DataEncoded meanwhile.
	data := unsafe.String(unsafe.SliceData(e.DataEncoded), len(e.DataEncoded)) // #nosec G103 -- read-only view of the event's bytes for matching; the string does not outlive the event
	if i := jsonscan.SkipSpace(data, 0); i < len(data) && data[i] == '{' {
		mark := len(fv.vals)
		if walkObject(data, nd, fv, -1) {
			return
		}
		fv.truncate(mark) // not JSON after all: match it as text
	} else if jsonscan.Valid(data) {
		walkValue(data[i:], nd, fv, -1)
		return
	}
	if nd.leaf >= 0 {
		fv.add(nd.leaf, str(data), -1)
	}
}

// walkObject flattens the members of the JSON object obj below nd; it
// validates obj as it goes and reports whether obj was well-formed. ctx is
// the array element obj sits in (-1: none).
func walkObject(obj string, nd *pathNode, fv *flat, ctx int32) bool {
	m := jsonscan.ObjectMembers(obj)
	for m.Next() {
		if c := nd.children[m.Key]; c != nil {
			walkValue(m.Value, c, fv, ctx)
		} else if strings.IndexByte(m.Key, '.') >= 0 {
			// An event key "a.b" is the path a, b, as patterns' are.
			if c := dotted(nd, m.Key); c != nil {
				walkValue(m.Value, c, fv, ctx)
			}
		}
	}
	return m.Complete()
}

// dotted is the node below nd at the dot-joined path key, or nil.
func dotted(nd *pathNode, key string) *pathNode {
	for nd != nil {
		seg, rest, more := strings.Cut(key, ".")
		nd = nd.children[seg]
		if !more {
			return nd
		}
		key = rest
	}
	return nil
}

// walkValue flattens a value already validated by its parent's walk.
func walkValue(raw string, nd *pathNode, fv *flat, ctx int32) {
	switch raw[0] {
	case '{':
		if nd.children != nil {
			walkObject(raw, nd, fv, ctx)
		}
	case '[':
		// Arrays match if any element matches: elements share the path.
		// Elements are told apart only where a pattern looks below them;
		// a leaf's values are one field and never need telling apart.
		if nd.children == nil {
			for it := jsonscan.ArrayElements(raw); it.Next(); {
				walkValue(it.Value, nd, fv, ctx)
			}
			return
		}
		array := fv.arrays
		fv.arrays++
		i := int32(0)
		for it := jsonscan.ArrayElements(raw); it.Next(); i++ {
			walkValue(it.Value, nd, fv, fv.element(ctx, array, i))
		}
	default:
		if nd.leaf >= 0 {
			fv.add(nd.leaf, scalar(raw), ctx)
		}
	}
}

func scalar(raw string) value {
	switch raw[0] {
	case '"':
		s, _ := jsonscan.String(raw)
		return str(s)
	case 't':
		return value{kind: kTrue}
	case 'f':
		return value{kind: kFalse}
	case 'n':
		return value{kind: kNull}
	}
	n, _ := strconv.ParseFloat(raw, 64)
	return value{kind: kNumber, s: raw, n: n}
}
