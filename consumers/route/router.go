package route

import (
	"fmt"

	ce "github.com/cloudevents/sdk-go/v2/event"
)

// Route names a handler and the event pattern that selects events for it.
type Route[H any] struct {
	// Name identifies the route in logs, metrics and errors.
	Name string
	// Pattern is an EventBridge event pattern (JSON). An empty pattern
	// matches every event.
	Pattern string
	// Handler receives the matching events.
	Handler H
}

// Router maps CloudEvents to the routes whose patterns they match. It is
// immutable once built and safe for concurrent use.
type Router[H any] struct {
	routes   []Route[H]
	set      *Set
	setIndex []int // set pattern index -> route index
	catchAll []int // routes without a pattern
}

// NewRouter compiles every route's pattern; an invalid pattern is an error
// naming the route.
func NewRouter[H any](routes ...Route[H]) (*Router[H], error) {
	r := &Router[H]{routes: routes, set: NewSet()}
	seen := map[string]bool{}
	for i, rt := range routes {
		if rt.Name == "" {
			return nil, fmt.Errorf("route %d: name is empty", i)
		}
		if seen[rt.Name] {
			return nil, fmt.Errorf("route %q: name is used twice", rt.Name)
		}
		seen[rt.Name] = true
		if rt.Pattern == "" {
			r.catchAll = append(r.catchAll, i)
			continue
		}
		if _, err := r.set.Add([]byte(rt.Pattern)); err != nil {
			return nil, fmt.Errorf("route %q: %w", rt.Name, err)
		}
		r.setIndex = append(r.setIndex, i)
	}
	return r, nil
}

// Match appends to dst the routes that e matches, in declaration order of
// the patterned routes followed by the catch-all routes.
func (r *Router[H]) Match(e *ce.Event, dst []*Route[H]) []*Route[H] {
	var buf [16]int
	for _, i := range r.set.MatchEvent(e, buf[:0]) {
		dst = append(dst, &r.routes[r.setIndex[i]])
	}
	for _, i := range r.catchAll {
		dst = append(dst, &r.routes[i])
	}
	return dst
}

// Routes returns the routes in declaration order.
func (r *Router[H]) Routes() []Route[H] { return r.routes }

// Pattern is a single compiled event pattern.
type Pattern struct{ set *Set }

// Compile compiles one EventBridge event pattern.
func Compile(pattern []byte) (*Pattern, error) {
	s := NewSet()
	if _, err := s.Add(pattern); err != nil {
		return nil, err
	}
	return &Pattern{set: s}, nil
}

// MatchJSON reports whether the JSON event doc matches.
func (p *Pattern) MatchJSON(doc []byte) (bool, error) {
	var buf [1]int
	m, err := p.set.MatchJSON(doc, buf[:0])
	return len(m) == 1, err
}

// MatchEvent reports whether the CloudEvent e matches.
func (p *Pattern) MatchEvent(e *ce.Event) bool {
	var buf [1]int
	return len(p.set.MatchEvent(e, buf[:0])) == 1
}
