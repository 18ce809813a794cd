package main

import (
	"testing"
	"time"
)

// The attribution names where each repeat came from: a publish moto applied
// after its process was killed, one answered before the marker was sent, a
// marker written and the effect repeated all the same (a bug), and a second
// publish by the same process (an SDK retry).
func TestAttributeNamesEachRepeatsCause(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	lives := []Life{{N: 1, Start: at(0), End: at(10), How: "kill -9"}, {N: 2, Start: at(11), End: at(20), How: "SIGTERM"}, {N: 3, Start: at(21)}}
	pub := func(id string, arrived, answered float64) Call {
		return Call{Kind: "publish", ID: id, Topic: "t", Arrived: at(arrived), Answered: at(answered), Status: 200}
	}
	done := func(id string, arrived float64) Call {
		return Call{Kind: "complete", Key: "k-" + id, Arrived: at(arrived), Answered: at(arrived + 0.1), Status: 200}
	}
	calls := []Call{
		pub("inflight", 9.5, 10.5), pub("inflight", 12, 12.1),
		pub("answered", 9.0, 9.1), pub("answered", 12, 12.1),
		pub("marked", 5, 5.1), done("marked", 5.2), pub("marked", 13, 13.1),
		{Kind: "publish", ID: "retried", Topic: "t", Arrived: at(14), Answered: at(18.5), Status: 200, Attempt: 1, ClientGone: true},
		{Kind: "publish", ID: "retried", Topic: "t", Arrived: at(18), Answered: at(18.6), Status: 200, Attempt: 2},
		pub("once", 1, 1.1), done("once", 1.2),
		{Kind: "publish", ID: "once", Topic: "other", Arrived: at(22), Answered: at(22.1), Status: 200},
	}
	rp := Attribute(calls, lives, func(c Call) bool { return c.Kind == "publish" && c.Topic == "t" }, func(id string) string { return "k-" + id })
	want := map[string]int{
		"kill -9: " + whyInFlight:     1,
		"kill -9: " + whyBeforeMarker: 1,
		"kill -9: " + whyMarkerLate:   1,
		whySDKRetry:                   1,
	}
	if rp.Total != 4 || len(rp.ByWhy) != len(want) {
		t.Fatalf("attribution %v (total %d), want %v", rp.ByWhy, rp.Total, want)
	}
	for why, n := range want {
		if rp.ByWhy[why] != n {
			t.Errorf("%q: %d, want %d (all: %v)", why, rp.ByWhy[why], n, rp.ByWhy)
		}
	}
	if rp.ByLife[1] != 3 || rp.ByLife[2] != 0 {
		t.Errorf("per stop %v, want 3 repeats of process 1's copies", rp.ByLife)
	}
}
