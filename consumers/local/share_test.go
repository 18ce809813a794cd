package local

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/memqueue"
	"github.com/eventplane/eventplane/consumers/route"
)

// A subscription's MessageBody filter policy answered by the bus's walk of
// the event (the rules' set holds the policies too) lets through exactly
// the events its own match would: per event, each subscription's queue
// gets a message when, and only when, the policy alone matches the body.
func TestSharedFilterPoliciesAnswerAsTheirOwnMatch(t *testing.T) {
	policies := []string{
		`{"detail":{"total":[{"numeric":[">",1000]}]}}`,
		`{"detail":{"currency":["EUR"],"items":{"sku":[{"prefix":"a"}]}}}`,
		`{"source":["shop"],"detail":{"coupon":[{"exists":false}]}}`,
		`{"detail-type":[{"anything-but":["order.placed"]}]}`,
		`{"detail":{"total":[{"numeric":["<=",20]}],"currency":["USD","EUR"]}}`,
	}
	tp := &topic{arn: "arn:aws:sns:local:000000000000:t", count: &Counter{}}
	for i, p := range policies {
		set := route.NewSet()
		if _, err := set.Add([]byte(p)); err != nil {
			t.Fatal(err)
		}
		tp.subs = append(tp.subs, subscription{queue: memqueue.New(memqueue.Config{Name: fmt.Sprint("q", i), VisibilityTimeout: time.Minute}),
			raw: true, body: true, set: set, policy: []byte(p), count: &Counter{}})
	}
	// One subscription without a policy and one scoped to attributes keep
	// their own ways.
	tp.subs = append(tp.subs, subscription{queue: memqueue.New(memqueue.Config{Name: "all", VisibilityTimeout: time.Minute}), raw: true, count: &Counter{}})
	br := &busRules{set: route.NewSet()}
	for _, pattern := range []string{`{"source":["shop"]}`, `{"detail":{"total":[{"numeric":[">",0]}]}}`} {
		if _, err := br.set.Add([]byte(pattern)); err != nil {
			t.Fatal(err)
		}
		br.rules = append(br.rules, &rule{name: pattern, count: &Counter{}, targets: []target{{topic: tp}}})
	}
	if err := br.sharePolicies(); err != nil {
		t.Fatal(err)
	}
	if got := br.policies[tp]; len(got) != len(tp.subs) || got[0] < 0 || got[len(got)-1] != -1 {
		t.Fatalf("policies in the bus's set: %v", got)
	}
	b := &Bus{log: slog.New(slog.DiscardHandler)}
	events := []string{
		`{"source":"shop","detail-type":"order.placed","detail":{"total":1500,"currency":"EUR","items":[{"sku":"abc"}]}}`,
		`{"source":"shop","detail-type":"order.placed","detail":{"total":20,"currency":"USD","items":[{"sku":"b"}],"coupon":"x"}}`,
		`{"source":"shop","detail-type":"order.paid","detail":{"total":5,"currency":"EUR","items":[{"sku":"b"},{"sku":"a1"}]}}`,
		`{"source":"other","detail-type":"order.placed","detail":{"total":1000.5,"currency":"GBP"}}`,
		`{"source":"other","detail-type":"x","detail":{"total":-1}}`, // no rule matches: nothing published
	}
	want := make([]int, len(tp.subs))
	for _, ev := range events {
		ruled, _ := br.set.MatchString(ev, nil)
		rules := 0 // each matching rule publishes the event once
		for _, i := range ruled {
			if i < len(br.rules) {
				rules++
			}
		}
		for i, s := range tp.subs {
			if s.set == nil {
				want[i] += rules
				continue
			}
			if m, err := s.set.MatchString(ev, nil); err == nil && len(m) > 0 {
				want[i] += rules
			}
		}
		b.deliver(context.Background(), br, []byte(ev), "", time.Now())
	}
	if fmt.Sprint(want) != "[3 4 4 2 4 7]" {
		t.Fatalf("the policies alone let through %v: the cases no longer cover what they should", want)
	}
	for i, s := range tp.subs {
		if got := s.queue.Stats().Visible; got != want[i] {
			t.Errorf("subscription %d (%s): %d messages, its own match lets through %d", i, s.policy, got, want[i])
		}
	}
}
