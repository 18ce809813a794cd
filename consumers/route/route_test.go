package route

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Patterns from EventBridge's documentation on content filtering and
// comparison operators, against the documented EC2 sample event (extended
// with the fields those examples test).
func TestDocumentedPatterns(t *testing.T) {
	event, err := os.ReadFile("testdata/ec2-event.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pattern string
		want    bool
	}{
		// exact values, nesting, AND across fields, OR within arrays
		{`{"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"], "detail": {"state": ["running", "stopped"]}}`, true},
		{`{"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}`, false},
		{`{"source": ["aws.EC2"]}`, false},
		{`{"detail": {"location": {"city": ["New York"], "day": ["Monday"]}}}`, true},
		{`{"detail": {"location": {"city": ["New York"], "day": ["Tuesday"]}}}`, false},
		// arrays in the event: any element
		{`{"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}`, true},
		{`{"detail": {"tags": ["green"]}}`, true},
		{`{"detail": {"items": {"sku": ["B-7"]}}}`, true},
		{`{"detail": {"items": {"sku": ["C-9"]}}}`, false},
		// numbers, booleans, null, empty string
		{`{"detail": {"c-count": [5]}}`, true},
		// "For numbers, EventBridge uses string representation. For
		// example, 300, 300.0, and 3.0e2 are not considered equal"
		// (eb-create-pattern.html, considerations): 5.0 is not 5.
		{`{"detail": {"c-count": [5.0]}}`, false},
		{`{"detail": {"c-count": ["5"]}}`, false},
		{`{"detail": {"enabled": [true]}}`, true},
		{`{"detail": {"enabled": [false]}}`, false},
		{`{"detail": {"responseElements": [null]}}`, true},
		{`{"detail": {"LastName": [""]}}`, true},
		{`{"detail": {"state": [""]}}`, false},
		// prefix, suffix, with equals-ignore-case
		{`{"time": [{"prefix": "2017-10-02"}]}`, true},
		{`{"time": [{"prefix": "2017-10-03"}]}`, false},
		{`{"detail": {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}}`, true},
		{`{"detail": {"service": [{"prefix": "eventb"}]}}`, false},
		{`{"detail": {"FileName": [{"suffix": ".PNG"}]}}`, true},
		{`{"detail": {"FileName": [{"suffix": ".png"}]}}`, false},
		{`{"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}`, true},
		// equals-ignore-case
		{`{"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]}`, true},
		{`{"detail-type": [{"equals-ignore-case": "ec2 instance"}]}`, false},
		// wildcard
		{`{"detail": {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}}`, true},
		{`{"detail": {"EventBusArn": [{"wildcard": "arn:aws:events:eu-*:*:event-bus/*"}]}}`, false},
		{`{"detail": {"FilePath": [{"wildcard": "*/lib/*"}]}}`, true},
		{`{"detail": {"FilePath": [{"wildcard": "/usr/lib/libc.so"}]}}`, true},
		// anything-but
		{`{"detail": {"state": [{"anything-but": "initializing"}]}}`, true},
		{`{"detail": {"state": [{"anything-but": "running"}]}}`, false},
		{`{"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}`, true},
		{`{"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}`, false},
		{`{"detail": {"c-count": [{"anything-but": 123}]}}`, true},
		{`{"detail": {"c-count": [{"anything-but": [100, 200, 5]}]}}`, false},
		{`{"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}`, true},
		{`{"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}`, false},
		{`{"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}}`, true},
		{`{"detail": {"FileName": [{"anything-but": {"suffix": ".PNG"}}]}}`, false},
		{`{"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}}`, true},
		{`{"detail": {"state": [{"anything-but": {"equals-ignore-case": "RUNNING"}}]}}`, false},
		{`{"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}}`, false},
		{`{"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/bin/*", "*.txt"]}}]}}`, true},
		{`{"detail": {"missing": [{"anything-but": "x"}]}}`, false},
		{`{"detail": {"tags": [{"anything-but": "blue"}]}}`, true},
		// numeric
		{`{"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}}`, true},
		{`{"detail": {"c-count": [{"numeric": [">", 5]}]}}`, false},
		{`{"detail": {"c-count": [{"numeric": [">=", 5]}]}}`, true},
		{`{"detail": {"c-count": [{"numeric": ["<", 5]}]}}`, false},
		{`{"detail": {"state": [{"numeric": [">", 0]}]}}`, false},
		{`{"detail": {"items": {"qty": [{"numeric": [">", 30]}]}}}`, true},
		// cidr
		{`{"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}`, true},
		{`{"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}`, false},
		{`{"detail": {"source-ipv6": [{"cidr": "2001:db8::/32"}]}}`, true},
		{`{"detail": {"source-ipv6": [{"cidr": "2001:db9::/32"}]}}`, false},
		{`{"detail": {"state": [{"cidr": "10.0.0.0/8"}]}}`, false},
		// exists
		{`{"detail": {"state": [{"exists": true}]}}`, true},
		{`{"detail": {"state": [{"exists": false}]}}`, false},
		{`{"detail": {"nothing": [{"exists": false}]}}`, true},
		{`{"detail": {"nothing": [{"exists": true}]}}`, false},
		{`{"detail": {"responseElements": [{"exists": true}]}}`, true},
		{`{"detail": {"location": [{"exists": true}]}}`, false}, // exists works on leaves only
		// $or
		{`{"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}, {"x-limit": [{"numeric": ["=", 3.018e2]}]}]}}`, true},
		{`{"source": ["aws.ec2"], "$or": [{"detail-type": ["nope"]}, {"detail": {"state": ["running"]}}]}`, true},
		{`{"source": ["aws.ec2"], "$or": [{"detail-type": ["nope"]}, {"detail": {"state": ["stopped"]}}]}`, false},
		// combinations from the documentation's complex example
		{`{"time": [{"prefix": "2017-10-02"}], "detail": {"state": [{"anything-but": "initializing"}], "c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"anything-but": [100, 200, 300]}], "source-ip": [{"cidr": "10.0.0.0/8"}]}}`, true},
		{`{"detail": {"state": [{"prefix": "stop"}, {"suffix": "ing"}]}}`, true},
		// Arrays of objects: fields match together only within one element.
		// The EventBridge guide says only that an event array matches when
		// it intersects the pattern's (eb-event-patterns-arrays.html); its
		// pattern syntax page documents event-ruler's compiler as its own
		// (keys joined with dots, eb-create-pattern.html), and event-ruler's
		// rulesForJSONEvent "will refuse to recognize any match in which any
		// two fields are within JSON objects that are in different elements
		// of the same array" (github.com/aws/event-ruler, README, JSON Array
		// Matching).
		{`{"detail": {"items": {"sku": ["B-7"], "qty": [40]}}}`, true},
		{`{"detail": {"items": {"sku": ["A-1"], "qty": [40]}}}`, false},
		{`{"detail": {"items": {"sku": ["A-1"]}, "tags": ["green"]}}`, true},
		// A field given twice: "If multiple patterns are specified for the
		// same JSON field, EventBridge only uses the last one"
		// (eb-create-pattern.html, considerations). $or branches extend the
		// fields before them, so a branch's condition replaces an earlier
		// one on the same field and a later one replaces the branch's
		// (event-ruler's JsonRuleCompiler expands $or that way).
		{`{"source": ["aws.s3"], "$or": [{"source": ["aws.ec2"]}, {"detail-type": ["nope"]}]}`, true},
		{`{"$or": [{"source": ["aws.ec2"]}, {"detail-type": ["nope"]}], "source": ["aws.s3"]}`, false},
		{`{"detail": {"state": ["stopped"], "state": ["running"]}}`, true},
		{`{"detail": {"state": ["stopped"]}, "detail": {"c-count": [5]}}`, false}, // two fields of detail, both hold
	}
	// The same answers from one Set holding every pattern, which consults
	// its index.
	set := NewSet()
	for _, tc := range tests {
		if _, err := set.Add([]byte(tc.pattern)); err != nil {
			t.Fatalf("Add(%s): %v", tc.pattern, err)
		}
	}
	matched, err := set.MatchJSON(event, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		if got := slices.Contains(matched, i); got != tc.want {
			t.Errorf("in a Set of %d: pattern %s: match = %v, want %v", len(tests), tc.pattern, got, tc.want)
		}
	}
	for _, tc := range tests {
		p, err := Compile([]byte(tc.pattern))
		if err != nil {
			t.Errorf("Compile(%s): %v", tc.pattern, err)
			continue
		}
		got, err := p.MatchJSON(event)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("pattern %s: match = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestInvalidPatterns(t *testing.T) {
	tests := []struct{ pattern, path, reason string }{
		{`[]`, "", "must be a JSON object"},
		{`{}`, "", "at least one field"},
		{`{"source": "aws.ec2"}`, "source", "must be in an array"},
		{`{"source": []}`, "source", "empty array"},
		{`{"detail": {}}`, "detail", "empty object"},
		{`{"source": [["a"]]}`, "source", "cannot contain arrays"},
		{`{"source": [{"prefix": 1}]}`, "source", "prefix takes a string"},
		{`{"source": [{"prefix": "a", "suffix": "b"}]}`, "source", "exactly one key"},
		{`{"source": [{"regex": "a.*"}]}`, "source", `unknown matching operator "regex"`},
		{`{"a": [{"numeric": [">", 5, ">", 6]}]}`, "a", "two lower bounds"},
		{`{"a": [{"numeric": [">", 5, "<", 1]}]}`, "a", "range is empty"},
		{`{"a": [{"numeric": ["~", 5]}]}`, "a", `unknown numeric operator "~"`},
		{`{"a": [{"numeric": [">", "5"]}]}`, "a", "must be a number"},
		{`{"a": [{"numeric": ["=", 5, "<", 9]}]}`, "a", `"=" cannot be combined`},
		{`{"a": [{"exists": "yes"}]}`, "a", "exists takes true or false"},
		{`{"a": [{"cidr": "10.0.0.300/8"}]}`, "a", "not an IPv4 or IPv6 CIDR"},
		{`{"a": [{"wildcard": "a**b"}]}`, "a", "consecutive '*'"},
		{`{"a": [{"wildcard": "a\\b"}]}`, "a", "backslash must escape"},
		{`{"a": [{"anything-but": ["x", 1]}]}`, "a", "only strings or only numbers"},
		{`{"a": [{"anything-but": {"prefix": ""}}]}`, "a", "non-empty string"},
		{`{"a": [{"anything-but": {"contains": "x"}}]}`, "a", `does not take "contains"`},
		{`{"$or": [{"a": ["x"]}]}`, "", "at least two patterns"},
		{`{"x": {"$or": [{"a": ["x"]}, "b"]}}`, "x", "$or[1] must be a non-empty pattern object"},
		{`{"a": ["x"]} {"b": ["y"]}`, "", "trailing data"},
		{`{"a": [1e999]}`, "a", "out of range"},
		{`{"k0": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k1": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k2": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k3": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k4": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k5": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k6": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k7": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k8": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}, "k9": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}`, "k9", "more than 1000 alternatives"}, // ten $or of two: 1,024 combinations
	}
	for _, tc := range tests {
		_, err := Compile([]byte(tc.pattern))
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("Compile(%s) = %v, want a *PatternError", tc.pattern, err)
			continue
		}
		if pe.Path != tc.path || !strings.Contains(pe.Reason, tc.reason) {
			t.Errorf("Compile(%s): path %q reason %q; want path %q reason containing %q", tc.pattern, pe.Path, pe.Reason, tc.path, tc.reason)
		}
	}
}

func TestWildcardEscapes(t *testing.T) {
	p, err := Compile([]byte(`{"k": [{"wildcard": "a\\*b*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for doc, want := range map[string]bool{`{"k":"a*bcd"}`: true, `{"k":"axbcd"}`: false, `{"k":"a*b"}`: true} {
		if got, _ := p.MatchJSON([]byte(doc)); got != want {
			t.Errorf("%s: %v, want %v", doc, got, want)
		}
	}
}

func TestMatchJSONRejectsBadEvents(t *testing.T) {
	p, _ := Compile([]byte(`{"a": ["x"]}`))
	for _, doc := range []string{`{"a": "x"`, `["x"]`, ``} {
		if _, err := p.MatchJSON([]byte(doc)); err == nil {
			t.Errorf("MatchJSON(%q) gave no error", doc)
		}
	}
}

func orderEvent() cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID("ord-1")
	e.SetSource("https://shop.example.com/orders")
	e.SetType("io.eventplane.demo.order.placed.v1")
	e.SetSubject("orders/1")
	e.SetExtension("tenant", "acme")
	_ = e.SetData(cloudevents.ApplicationJSON, map[string]any{"total": 129.5, "currency": "EUR", "items": []map[string]any{{"sku": "BOOK-1"}}})
	return e
}

func TestRouterOnCloudEvents(t *testing.T) {
	r, err := NewRouter(
		Route[string]{Name: "big-orders", Pattern: `{"type": [{"prefix": "io.eventplane.demo.order."}], "data": {"total": [{"numeric": [">", 100]}]}}`, Handler: "store"},
		Route[string]{Name: "books", Pattern: `{"data": {"items": {"sku": [{"prefix": "BOOK-"}]}}}`, Handler: "archive"},
		Route[string]{Name: "acme", Pattern: `{"tenant": ["acme"], "subject": [{"wildcard": "orders/*"}]}`, Handler: "publish"},
		Route[string]{Name: "usd", Pattern: `{"data": {"currency": ["USD"]}}`, Handler: "never"},
		Route[string]{Name: "audit", Handler: "sql"},
	)
	if err != nil {
		t.Fatal(err)
	}
	e := orderEvent()
	var names []string
	for _, rt := range r.Match(&e, nil) {
		names = append(names, rt.Name+"->"+rt.Handler)
	}
	if got := strings.Join(names, ","); got != "big-orders->store,books->archive,acme->publish,audit->sql" {
		t.Fatalf("routes = %s", got)
	}
	// Text data is one string value under "data".
	txt := cloudevents.NewEvent()
	txt.SetID("1")
	txt.SetSource("s")
	txt.SetType("t")
	_ = txt.SetData("text/plain", "hello world")
	p, _ := Compile([]byte(`{"data": [{"prefix": "hello"}]}`))
	if !p.MatchEvent(&txt) {
		t.Fatal("text data did not match as a string")
	}
}

func TestRouterRejectsBadRoutes(t *testing.T) {
	_, err := NewRouter(Route[int]{Name: "bad", Pattern: `{"a": "b"}`})
	if err == nil || !strings.Contains(err.Error(), `route "bad"`) || !strings.Contains(err.Error(), `field "a"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewRouter(Route[int]{Name: "x"}, Route[int]{Name: "x"}); err == nil {
		t.Fatal("duplicate route names accepted")
	}
}

// Exact numbers and keys with dots, as the EventBridge user guide's "Event
// pattern syntax" page (docs.aws.amazon.com/eventbridge/latest/userguide/
// eb-create-pattern.html, considerations) states them:
//   - "For numbers, EventBridge uses string representation. For example,
//     300, 300.0, and 3.0e2 are not considered equal." numeric comparisons
//     compare values ("=" matches 301.5 and 3.015e2 alike: SNS's numeric
//     value matching, the same filter language).
//   - "when EventBridge compiles event patterns for use, it uses dot (.) as
//     the joining character": {"state": {"status": [...]}} and
//     {"state.status": [...]} are the same pattern, and both match the
//     events {"state": {"status": ...}} and {"state.status": ...}.
func TestExactNumbersAndDottedKeys(t *testing.T) {
	tests := []struct {
		pattern, event string
		want           bool
	}{
		{`{"price": [300]}`, `{"price": 300}`, true},
		{`{"price": [300]}`, `{"price": 300.0}`, false},
		{`{"price": [300]}`, `{"price": 3.0e2}`, false},
		{`{"price": [300.0]}`, `{"price": 300}`, false},
		{`{"price": [3.0e2]}`, `{"price": 3.0e2}`, true},
		{`{"price": [300]}`, `{"price": [1, 300]}`, true},
		{`{"price": [300]}`, `{"price": "300"}`, false},
		{`{"price": [{"numeric": ["=", 300]}]}`, `{"price": 300.0}`, true},
		{`{"price": [{"numeric": ["=", 300]}]}`, `{"price": 3.0e2}`, true},
		{`{"price": [{"numeric": [">=", 300.0, "<", 301]}]}`, `{"price": 300}`, true},
		{`{"detail": {"state": {"status": ["running"]}}}`, `{"detail": {"state": {"status": "running"}}}`, true},
		{`{"detail": {"state.status": ["running"]}}`, `{"detail": {"state": {"status": "running"}}}`, true},
		{`{"detail": {"state": {"status": ["running"]}}}`, `{"detail": {"state.status": "running"}}`, true},
		{`{"detail": {"state.status": ["running"]}}`, `{"detail": {"state.status": "running"}}`, true},
		{`{"detail.state.status": ["running"]}`, `{"detail": {"state": {"status": "running"}}}`, true},
		{`{"detail": {"state.status": ["running"]}}`, `{"detail": {"state": {"status": "stopped"}}}`, false},
		{`{"detail": {"state.status": ["running"]}}`, `{"detail": {"status": "running"}}`, false},
		{`{"detail": {"state.status": [{"exists": false}]}}`, `{"detail": {"state": {"status": "running"}}}`, false},
		// the same field twice, once dotted: the last one is used
		{`{"detail": {"state.status": ["running"], "state": {"status": ["stopped"]}}}`, `{"detail": {"state": {"status": "stopped"}}}`, true},
		{`{"detail": {"state.status": ["running"], "state": {"status": ["stopped"]}}}`, `{"detail": {"state": {"status": "running"}}}`, false},
	}
	set := NewSet()
	for _, tc := range tests {
		if _, err := set.Add([]byte(tc.pattern)); err != nil {
			t.Fatalf("Add(%s): %v", tc.pattern, err)
		}
	}
	for i, tc := range tests {
		p, err := Compile([]byte(tc.pattern))
		if err != nil {
			t.Fatalf("Compile(%s): %v", tc.pattern, err)
		}
		got, err := p.MatchJSON([]byte(tc.event))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("pattern %s, event %s: match = %v, want %v", tc.pattern, tc.event, got, tc.want)
		}
		matched, err := set.MatchJSON([]byte(tc.event), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(matched, i); got != tc.want {
			t.Errorf("in a Set: pattern %s, event %s: match = %v, want %v", tc.pattern, tc.event, got, tc.want)
		}
	}
}
