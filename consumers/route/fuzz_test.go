package route

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// FuzzCompile compiles arbitrary patterns: the compiler must never panic,
// must reject with a *PatternError, and a compiled pattern must match the
// sample event without panicking.
func FuzzCompile(f *testing.F) {
	for _, p := range tenRules {
		f.Add(p)
	}
	for _, p := range []string{
		`{"detail": {"$or": [{"a": [{"numeric": [">", 0, "<=", 5]}]}, {"b": [{"cidr": "2001:db8::/32"}]}]}}`,
		`{"a": [{"anything-but": {"wildcard": ["*x*", "y\\*"]}}, null, true, 1.5, ""]}`,
		`{"a": [{"prefix": {"equals-ignore-case": "ÄB"}}, {"suffix": {"equals-ignore-case": "ß"}}]}`,
	} {
		f.Add(p)
	}
	event, err := os.ReadFile("testdata/ec2-event.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Compile([]byte(pattern))
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("Compile error %v (%T) is not a *PatternError", err, err)
			}
			return
		}
		if _, err := p.MatchJSON(event); err != nil {
			t.Fatal(err)
		}
		if _, err := p.MatchJSON([]byte(pattern)); err != nil {
			t.Fatalf("a valid pattern is a valid JSON object event too: %v", err)
		}
	})
}

// FuzzMatchJSON matches arbitrary events against a pattern using every
// operator: never a panic, and invalid JSON is an error.
func FuzzMatchJSON(f *testing.F) {
	event, _ := os.ReadFile("testdata/ec2-event.json")
	f.Add(string(event))
	f.Add(`{"detail": {"tags": [[1, "x"], {"a": null}]}}`)
	p, err := Compile([]byte(`{"time": [{"prefix": "2017"}], "detail": {"state": [{"anything-but": "x"}, {"wildcard": "r*n*g"}], "c-count": [{"numeric": [">", 0, "<=", 5]}], "source-ip": [{"cidr": "10.0.0.0/8"}], "tags": [{"exists": true}], "$or": [{"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}, {"LastName": [""]}]}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		_, _ = p.MatchJSON([]byte(doc))
	})
}

// FuzzSetAgreesWithEveryPattern matches arbitrary events against a Set of
// the benchmark's rules and random patterns: the index answers what
// evaluating every pattern answers.
func FuzzSetAgreesWithEveryPattern(f *testing.F) {
	event, _ := os.ReadFile("testdata/ec2-event.json")
	f.Add(string(event))
	f.Add(orderEventJSON)
	f.Add(`{"a": [{"b": "x", "c": ["y", {"a": 1}]}, {"c": "xy"}], "b": {"a": null}}`)
	s := NewSet()
	for _, p := range benchRules(100) {
		if _, err := s.Add([]byte(p)); err != nil {
			f.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		if _, err := s.Add([]byte(randPattern(r, 0))); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := s.MatchJSON([]byte(doc), nil)
		if err != nil {
			return
		}
		want, err := s.matchEvery([]byte(doc))
		if err != nil {
			t.Fatalf("MatchJSON accepted %q, the reference did not: %v", doc, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("indexed %v, every pattern %v", got, want)
		}
	})
}
