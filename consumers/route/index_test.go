package route

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// matchEvery matches doc by evaluating every rule of every pattern, without
// the index.
func (s *Set) matchEvery(doc []byte) ([]int, error) {
	fv := new(flat)
	fv.reset(s)
	if !walkObject(string(doc), &s.paths.root, fv, -1) {
		return nil, fmt.Errorf("event is not valid JSON")
	}
	return s.collectEvery(fv, nil), nil
}

var (
	randNames   = []string{"a", "b", "c"}
	randStrings = []string{`"x"`, `"y"`, `"xy"`, `"yx"`, `"X"`, `""`, `"10.0.0.7"`, `"xay"`}
	randScalars = append([]string{`0`, `1`, `2.5`, `-1`, `true`, `false`, `null`}, randStrings...)
	randOps     = []string{
		`{"prefix": "x"}`, `{"prefix": ""}`, `{"suffix": "y"}`, `{"prefix": {"equals-ignore-case": "X"}}`,
		`{"suffix": {"equals-ignore-case": "Y"}}`, `{"equals-ignore-case": "x"}`,
		`{"wildcard": "x*"}`, `{"wildcard": "*y"}`, `{"wildcard": "x*y"}`, `{"wildcard": "*"}`, `{"wildcard": "*a*"}`, `{"wildcard": "xy"}`,
		`{"anything-but": "x"}`, `{"anything-but": ["x", "y"]}`, `{"anything-but": 1}`, `{"anything-but": {"prefix": "x"}}`,
		`{"numeric": [">", 0]}`, `{"numeric": [">=", -1, "<", 2]}`, `{"numeric": ["=", 2.5]}`,
		`{"exists": true}`, `{"exists": false}`, `{"cidr": "10.0.0.0/24"}`,
	}
)

func randPattern(r *rand.Rand, depth int) string {
	n := 1 + r.IntN(2)
	var members []string
	for range n {
		name := randNames[r.IntN(len(randNames))]
		switch x := r.IntN(10); {
		case x == 0 && depth < 2:
			members = append(members, fmt.Sprintf(`"$or": [%s, %s]`, randPattern(r, depth+1), randPattern(r, depth+1)))
		case x < 3 && depth < 2:
			members = append(members, fmt.Sprintf(`%q: %s`, name, randPattern(r, depth+1)))
		default:
			var alts []string
			for range 1 + r.IntN(3) {
				if r.IntN(2) == 0 {
					alts = append(alts, randScalars[r.IntN(len(randScalars))])
				} else {
					alts = append(alts, randOps[r.IntN(len(randOps))])
				}
			}
			members = append(members, fmt.Sprintf(`%q: [%s]`, name, strings.Join(alts, ", ")))
		}
	}
	return "{" + strings.Join(members, ", ") + "}"
}

func randEventValue(r *rand.Rand, depth int) string {
	switch x := r.IntN(8); {
	case x < 2 && depth < 3:
		return randEventObject(r, depth+1)
	case x < 4 && depth < 3:
		var elems []string
		for range r.IntN(4) {
			elems = append(elems, randEventValue(r, depth+1))
		}
		return "[" + strings.Join(elems, ", ") + "]"
	}
	return randScalars[r.IntN(len(randScalars))]
}

func randEventObject(r *rand.Rand, depth int) string {
	var members []string
	for _, name := range randNames {
		if r.IntN(3) > 0 {
			members = append(members, fmt.Sprintf(`%q: %s`, name, randEventValue(r, depth)))
		}
	}
	return "{" + strings.Join(members, ", ") + "}"
}

// TestIndexAgreesWithEveryPattern: the indexed Set answers what evaluating
// every pattern answers, on random patterns (every operator, nesting, $or)
// and random events (nested objects, arrays of objects and of scalars).
func TestIndexAgreesWithEveryPattern(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 1))
	for round := range 20 {
		s := NewSet()
		var patterns []string
		for len(patterns) < 300 {
			p := randPattern(r, 0)
			if _, err := s.Add([]byte(p)); err != nil {
				t.Fatalf("Add(%s): %v", p, err)
			}
			patterns = append(patterns, p)
		}
		matched := 0
		for range 300 {
			doc := []byte(randEventObject(r, 0))
			got, err := s.MatchJSON(doc, nil)
			if err != nil {
				t.Fatalf("MatchJSON(%s): %v", doc, err)
			}
			want, _ := s.matchEvery(doc)
			if !slices.Equal(got, want) {
				for _, i := range symmetricDifference(got, want) {
					t.Errorf("round %d: event %s, pattern %d %s: indexed %v, every pattern %v", round, doc, i, patterns[i], slices.Contains(got, i), slices.Contains(want, i))
				}
				t.FailNow()
			}
			if !slices.IsSorted(got) {
				t.Fatalf("matches %v are not in pattern order", got)
			}
			matched += len(got)
		}
		if matched == 0 {
			t.Fatalf("round %d: no event matched any pattern: the test tests nothing", round)
		}
	}
}

func symmetricDifference(a, b []int) []int {
	var out []int
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestArrayConsistency: fields in objects that are different elements of one
// array do not combine, at any depth (event-ruler's JSON array matching).
func TestArrayConsistency(t *testing.T) {
	event := []byte(`{"a": [{"b": [{"c": 1, "d": 2}, {"c": 3}], "e": "x"}, {"b": [{"d": 4}], "e": "y"}], "f": ["z", "w"]}`)
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`{"a": {"b": {"c": [1], "d": [2]}}}`, true},                  // one inner element
		{`{"a": {"b": {"c": [3], "d": [2]}}}`, false},                 // two inner elements of one array
		{`{"a": {"b": {"c": [1]}, "e": ["x"]}}`, true},                // inner element inside the outer one
		{`{"a": {"b": {"c": [1]}, "e": ["y"]}}`, false},               // two outer elements
		{`{"a": {"b": {"d": [4]}, "e": ["y"]}}`, true},                //
		{`{"a": {"b": {"c": [3], "d": [4]}}}`, false},                 // inner elements of two outer ones
		{`{"a": {"b": {"d": [2, 4]}, "e": ["y"]}}`, true},             // needs the second value of d
		{`{"a": {"b": {"d": [{"exists": true}]}, "e": ["y"]}}`, true}, // exists picks a value too
		{`{"a": {"e": ["y"]}, "f": ["z"]}`, true},                     // different arrays combine
		{`{"a": {"b": {"c": [3]}, "e": ["x"]}, "$or": [{"a": {"e": ["y"]}}, {"f": ["w"]}]}`, true},
		{`{"$or": [{"a": {"e": ["y"]}}, {"f": ["q"]}], "a": {"b": {"c": [1]}}}`, false},
	} {
		p, err := Compile([]byte(tc.pattern))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := p.MatchJSON(event); got != tc.want {
			t.Errorf("pattern %s: match = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}
