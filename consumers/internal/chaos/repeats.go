package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Repeats is where a run's repeated effects came from, read from the calls
// the proxy saw: for each effect of an event after its first, the process
// that wrote the previous copy, how that process ended, and how far the
// previous copy had got towards its completed marker.
type Repeats struct {
	Total  int
	ByWhy  map[string]int // cause -> repeats
	ByLife map[int]int    // consumer process (1, 2, …) whose copy was repeated -> repeats
	lives  []Life
}

// Repeat causes.
const (
	whySameProcess  = "same process wrote it twice"
	whySDKRetry     = "SDK retry of a call whose attempt timed out and was applied late"
	whyInFlight     = "effect in flight at the kill (moto applied it after the process died)"
	whyBeforeMarker = "effect answered, marker not yet sent"
	whyMarkerLost   = "marker sent, not applied"
	whyMarkerLate   = "marker written, effect repeated anyway"
	whyNoMarker     = "no idempotency marker (idempotency off)"
)

// Attribute reads calls (in the order moto answered them): effect tells the
// effects of the row's sink (a publish to its topic, a put to its table),
// keyOf maps an event id to its idempotency record key ("" when
// idempotency is off).
func Attribute(calls []Call, lives []Life, effect func(Call) bool, keyOf func(id string) string) Repeats {
	rp := Repeats{ByWhy: map[string]int{}, ByLife: map[int]int{}, lives: lives}
	lifeAt := func(t time.Time) *Life {
		for i := range lives {
			if !t.Before(lives[i].Start) && (lives[i].End.IsZero() || t.Before(lives[i].End)) {
				return &lives[i]
			}
		}
		return nil
	}
	effects := map[string][]Call{}
	markers := map[string][]Call{}
	var ids []string
	for _, c := range calls {
		switch {
		case effect(c) && c.Status == 200:
			if len(effects[c.ID]) == 0 {
				ids = append(ids, c.ID)
			}
			effects[c.ID] = append(effects[c.ID], c)
		case c.Kind == "complete":
			markers[c.Key] = append(markers[c.Key], c)
		}
	}
	for _, id := range ids {
		fx := effects[id]
		for j := 1; j < len(fx); j++ {
			prev, cur := fx[j-1], fx[j]
			l := lifeAt(prev.Arrived)
			why := whyNoMarker
			switch {
			case l == nil:
				why = "effect outside any consumer's life"
			case lifeAt(cur.Arrived) == l:
				why = whySameProcess
				if cur.Attempt > 1 && prev.ClientGone {
					why = whySDKRetry
				}
				for _, m := range markers[keyOf(id)] {
					if m.Status == 200 && m.Answered.Before(cur.Arrived) && keyOf(id) != "" {
						why = whyMarkerLate
					}
				}
			case keyOf(id) != "":
				why = whyBeforeMarker
				for _, m := range markers[keyOf(id)] {
					if lifeAt(m.Arrived) != l {
						continue
					}
					if m.Status == 200 {
						why = whyMarkerLate
						break
					}
					why = whyMarkerLost
				}
				if why == whyBeforeMarker && l.How == "kill -9" && !prev.Answered.Before(l.End) {
					why = whyInFlight
				}
			}
			if l != nil && l.How != "" && why != whySameProcess && why != whySDKRetry {
				why = l.How + ": " + why
				rp.ByLife[l.N]++
			}
			rp.ByWhy[why]++
			rp.Total++
		}
	}
	return rp
}

// String is the attribution as one note: causes, then repeats per ended
// process.
func (rp Repeats) String() string {
	if rp.Total == 0 {
		return ""
	}
	var whys []string
	for w, n := range rp.ByWhy {
		whys = append(whys, fmt.Sprintf("%d %s", n, w))
	}
	sort.Strings(whys)
	var per []string
	for _, l := range rp.lives {
		if l.How == "" {
			continue
		}
		per = append(per, fmt.Sprintf("#%d %s %d", l.N, l.How, rp.ByLife[l.N]))
	}
	return fmt.Sprintf("%d repeats seen at the proxy: %s; per stop: %s", rp.Total, strings.Join(whys, ", "), strings.Join(per, ", "))
}
