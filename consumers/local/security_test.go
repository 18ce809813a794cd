package local_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// reportsQueued is how many messages the hourly-report schedule's queue
// has seen fired (waiting, in flight or handled by the reports consumer).
func reportsFired(s *stack) float64 {
	st := s.state()
	n := 0.0
	for _, q := range st.Queues {
		if q["name"] == "reports" {
			n += q["visible"].(float64) + q["inFlight"].(float64)
		}
	}
	for _, e := range st.Recent {
		if e.Consumer == "reports" {
			n++
		}
	}
	return n
}

// A web page the developer happens to open must not drive eventplane dev:
// the state-changing endpoints refuse requests a browser marks as
// cross-origin (Go's http.CrossOriginProtection: Sec-Fetch-Site, else
// Origin against Host), while the dashboard's own requests and clients
// that are not browsers (curl, eventplane send) still work.
func TestCrossOriginPostsAreRefused(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	post := func(path, body string, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents-batch+json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	oldBrowser := map[string]string{"Origin": "https://evil.example"} // no Fetch metadata: Origin vs Host
	for _, hdr := range []map[string]string{crossSite, oldBrowser} {
		for _, path := range []string{"/events", "/api/dlq/orders/redrive", "/api/schedules/hourly-report"} {
			if code := post(path, "["+order("x-1", 10)+"]", hdr); code != http.StatusForbidden {
				t.Errorf("cross-origin POST %s with %v: %d, want 403", path, hdr, code)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := busEvents(s, "main"); n != 0 {
		t.Errorf("a cross-origin ingest reached the bus: %v events", n)
	}
	if n := reportsFired(s); n != 0 {
		t.Errorf("a cross-origin request fired the schedule (%v)", n)
	}

	// The dashboard (same origin) and a CLI (no browser headers) are served.
	if code := post("/api/schedules/hourly-report", "", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": s.url}); code != http.StatusAccepted {
		t.Errorf("same-origin schedule trigger: %d, want 202", code)
	}
	if code := post("/events", "["+order("x-2", 10)+"]", nil); code != http.StatusAccepted {
		t.Errorf("CLI ingest: %d, want 202", code)
	}
}

// The same attack from a real browser: a page on another origin submits a
// form to the schedule endpoint as soon as it loads.
func TestCrossOriginFormInChromiumIsRefused(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="POST" action="%s/api/schedules/hourly-report"></form><script>document.forms[0].submit()</script>`, s.url)
	}))
	defer evil.Close()
	dom := string(headless(t, "--dump-dom", evil.URL+"/"))
	time.Sleep(500 * time.Millisecond)
	if n := reportsFired(s); n != 0 {
		t.Errorf("a form on %s fired the hourly-report schedule (%v); page after submit: %.300s", evil.URL, n, dom)
	}
	if !strings.Contains(dom, "cross-origin") {
		t.Errorf("the browser did not get the refusal: %.300s", dom)
	}
}

func busEvents(s *stack, logical string) float64 {
	for _, b := range s.state().Buses {
		if b["name"] == logical || b["name"] == "local-"+logical {
			return b["events"].(float64)
		}
	}
	s.t.Fatalf("no bus %s", logical)
	return 0
}
