package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var seeds = []string{
	`{"a":1,"b":[true,false,null],"c":{"d":"e\"f\\g\/h\u00e9\ud83d\ude00"}}`,
	`[1,-0.5e10,2E-3,0,"x"]`, `"\ud800"`, `"\udc00\ud800x"`, `{"k\u0065y":"v"}`, `{}`, `[]`, ` {"a" : "b" } `,
	`{"a":1,}`, `[1,]`, `{"a"}`, `01`, `1.`, `-`, `1e`, `"\x"`, "\"a\x01\"", `{"a":1}x`, `tru`, `nul`, `"\u12"`,
	`{"Type":"Notification","Message":"{\"id\":\"1\"}"}`, "\"\xff\xfe\"",
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range seeds {
		if got, want := Valid(s), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
	deep := strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1)
	if Valid(deep) {
		t.Errorf("nesting deeper than %d accepted", MaxNesting)
	}
}

func TestMembers(t *testing.T) {
	m := ObjectMembers(` {"a": 1, "b\u0021": {"x": [1, 2]}, "c": "s"} `)
	var keys, vals []string
	for m.Next() {
		keys, vals = append(keys, m.Key), append(vals, m.Value)
	}
	if !m.Complete() {
		t.Fatal("well-formed object reported incomplete")
	}
	if strings.Join(keys, ",") != "a,b!,c" || strings.Join(vals, "|") != `1|{"x": [1, 2]}|"s"` {
		t.Fatalf("keys %q values %q", keys, vals)
	}
	for _, bad := range []string{`{"a":1`, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":1} x`, `{"a":tru}`} {
		m := ObjectMembers(bad)
		for m.Next() {
		}
		if m.Complete() {
			t.Errorf("ObjectMembers(%q) reported complete", bad)
		}
	}
	e := ArrayElements(`[1, {"a":[2]}, "x"]`)
	var els []string
	for e.Next() {
		els = append(els, e.Value)
	}
	if strings.Join(els, "|") != `1|{"a":[2]}|"x"` {
		t.Fatalf("elements %q", els)
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := Valid(s)
		if want := json.Valid([]byte(s)); valid != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", s, valid, want)
		}
		if !valid {
			return
		}
		raw := strings.TrimSpace(s)
		switch raw[0] {
		case '"':
			var want string
			if err := json.Unmarshal([]byte(raw), &want); err != nil {
				t.Fatal(err)
			}
			if got, ok := String(raw); !ok || got != want {
				t.Fatalf("String(%q) = %q, encoding/json says %q", raw, got, want)
			}
		case '{':
			var want map[string]json.RawMessage
			if err := json.Unmarshal([]byte(raw), &want); err != nil {
				t.Fatal(err)
			}
			m := ObjectMembers(s)
			got := map[string]string{}
			for m.Next() {
				got[m.Key] = m.Value
			}
			if !m.Complete() || len(got) != len(want) {
				t.Fatalf("members of %q: %v (complete %v), encoding/json has %d", s, got, m.Complete(), len(want))
			}
			for k, v := range want {
				if got[k] != string(v) && !duplicateKeys(s) {
					t.Fatalf("member %q = %q, encoding/json says %q", k, got[k], v)
				}
			}
		}
	})
}

// duplicateKeys is true when an object repeats a key: encoding/json keeps the
// last value, the iterator yields both.
func duplicateKeys(s string) bool {
	m := ObjectMembers(s)
	seen := map[string]bool{}
	for m.Next() {
		if seen[m.Key] {
			return true
		}
		seen[m.Key] = true
	}
	return false
}
