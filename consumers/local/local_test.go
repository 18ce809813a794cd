package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/localplatform"

	"github.com/eventplane/eventplane/consumers/internal/testenv/pgserver"
	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
	"github.com/eventplane/eventplane/consumers/local"
	"github.com/eventplane/eventplane/consumers/topology"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgserver.StopShared()
	os.Exit(code)
}

var repoTopology = filepath.Join("..", "..", "api", "topology.yaml")

type stack struct {
	t    testing.TB
	p    *local.Platform
	url  string
	dir  string
	stop func()
}

// start runs the platform from the repository's topology on dir.
func start(t testing.TB, dir string, getenv func(string) string) *stack {
	t.Helper()
	top, err := topology.Load(repoTopology)
	if err != nil {
		t.Fatal(err)
	}
	p, url, stop := localplatform.Start(t, local.Options{Topology: top, Dir: dir, Getenv: getenv, WatchInterval: 50 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, BackoffBase: 100 * time.Millisecond})
	return &stack{t: t, p: p, url: url, dir: dir, stop: stop}
}

func (s *stack) post(body string) {
	s.t.Helper()
	resp, err := http.Post(s.url+"/events", "application/cloudevents-batch+json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		s.t.Fatalf("POST /events: %s %s", resp.Status, b)
	}
}

func (s *stack) state() local.State {
	s.t.Helper()
	resp, err := http.Get(s.url + "/api/state")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st local.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

var eventually = testserver.Eventually

func order(id string, total float64) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"shop","type":"io.eventplane.demo.order.placed.v1","time":"2026-11-26T17:10:00Z",`+
		`"datacontenttype":"application/json","data":{"orderId":%q,"customerId":"c-1","currency":"EUR","total":%v,"items":[{"sku":"a","quantity":1,"price":%v}]}}`, id, id, total, total)
}

func consumerOf(st local.State, name string) map[string]any {
	for _, c := range st.Consumers {
		if c["name"] == name {
			return c
		}
	}
	return nil
}

// The four flows of the topology, in one process, with no AWS and no
// emulator: ingest -> bus -> queue -> consumers (store, archive), the SNS
// fan-out to PostgreSQL and the alerts topic, file uploads on both paths
// (Lambda and consumer), and the scheduled report.
func TestFourFlowsLocally(t *testing.T) {
	pg := pgserver.Shared(t)
	s := start(t, t.TempDir(), func(k string) string {
		if k == "EVENTPLANE_POSTGRES_DSN" {
			return pg.DSN
		}
		return ""
	})

	// Flow 2 and 3: two orders through the ingest API; the same order again
	// is a duplicate the store detects.
	s.post("[" + order("o-1", 1500) + "," + order("o-2", 20) + "]")
	s.post("[" + order("o-1", 1500) + "]")
	eventually(t, 10*time.Second, "orders stored and fanned out", func() (bool, string) {
		st := s.state()
		o, a, al := consumerOf(st, "orders"), consumerOf(st, "analytics"), consumerOf(st, "alerts")
		// The repeated order keeps its id through the bus (the wire
		// contract): the store, the analytics rows and the alerts (total >
		// 1000 only) each see a duplicate they drop.
		ok := st.Tables["orders"] == 2 && o["handled"].(float64) >= 3 && o["failed"].(float64) == 0 &&
			a["handled"].(float64) == 3 && al["handled"].(float64) == 2
		return ok, fmt.Sprintf("tables %v orders %v analytics %v alerts %v", st.Tables, o, a, al)
	})
	conn := pg.Connect(t)
	var rows int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM order_analytics WHERE id IN ('o-1', 'o-2')`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("PostgreSQL order_analytics has %d rows of o-1 and o-2 (%v), want 2", rows, err)
	}
	var alerts int
	for _, tp := range s.state().Topics {
		if tp["name"] == "alerts" {
			alerts = int(tp["published"].(float64))
		}
	}
	if alerts != 1 {
		t.Errorf("alerts topic got %d publications, want 1 (the 1500 order, once: the second post is a duplicate)", alerts)
	}
	st := s.state()
	for _, tp := range st.Topics {
		if tp["name"] == "order-events" && tp["published"].(float64) != 3 {
			t.Errorf("order-events published %v, want 3 (every order event)", tp["published"])
		}
	}

	// Flow 1: a CSV on each upload path.
	uploads := filepath.Join(s.dir, "buckets", s.p.Names.Buckets["uploads"])
	for _, sub := range []string{"batch", "incoming"} {
		if err := os.MkdirAll(filepath.Join(uploads, sub), 0o750); err != nil {
			t.Fatal(err)
		}
		csv := "orderId,customerId,total\n" + sub + "-1,c-1,12.5\n" + sub + "-2,c-2,oops\n"
		if err := os.WriteFile(filepath.Join(uploads, sub, "orders.csv"), []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "both uploads parsed", func() (bool, string) {
		items, err := s.p.Tables.Items(s.p.Names.Tables["files"], 100)
		if err != nil {
			return false, err.Error()
		}
		b, _ := json.Marshal(items)
		return strings.Contains(string(b), "batch/orders.csv") && strings.Contains(string(b), "incoming/orders.csv") &&
			strings.Contains(string(b), "oops"), string(b)
	})
	// The bus counts a function target's delivery when the function has
	// returned, a moment after its row is written: wait for the counts.
	eventually(t, 5*time.Second, "each upload rule delivered once", func() (bool, string) {
		var got []string
		ok := true
		for _, r := range s.state().Rules {
			if r["name"] == "uploads-batch" || r["name"] == "uploads-incoming" {
				got = append(got, fmt.Sprintf("%v=%v", r["name"], r["delivered"]))
				ok = ok && r["delivered"].(float64) == 1
			}
		}
		return ok && len(got) == 2, strings.Join(got, " ")
	})
	time.Sleep(200 * time.Millisecond) // and no second delivery follows
	for _, r := range s.state().Rules {
		if (r["name"] == "uploads-batch" || r["name"] == "uploads-incoming") && r["delivered"].(float64) != 1 {
			t.Errorf("rule %v delivered %v, want 1", r["name"], r["delivered"])
		}
	}

	// Flow 4: the hourly report, fired by hand.
	resp, err := http.Post(s.url+"/api/schedules/hourly-report", "", nil)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("trigger schedule: %v %v", err, resp)
	}
	_ = resp.Body.Close()
	eventually(t, 10*time.Second, "report written", func() (bool, string) {
		objs, _ := s.p.Objects.List(s.p.Names.Buckets["lake"])
		var reports int
		for _, o := range objs {
			if strings.HasPrefix(o.Key, "reports/") {
				reports++
			}
		}
		return s.state().Tables["reports"] == 1 && reports == 1, fmt.Sprintf("tables %v, lake %v", s.state().Tables, objs)
	})
}

// A failing Lambda target is retried with the rule's policy, then its event
// goes to the rule's dead-letter queue with the reason; a poison message on a
// consumer queue goes to that queue's DLQ, and a redrive brings it back.
func TestDeadLettersAndRedrive(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	// A message no handler can use: the orders consumer's store needs
	// data.orderId.
	s.post(`[{"specversion":"1.0","id":"x-1","source":"shop","type":"io.eventplane.demo.order.placed.v9","datacontenttype":"application/json","data":{"nothing":true}}]`)
	eventually(t, 15*time.Second, "poison message in the orders DLQ", func() (bool, string) {
		for _, q := range s.state().Queues {
			if q["name"] == "orders" {
				return q["deadLetters"].(float64) == 1, fmt.Sprint(q)
			}
		}
		return false, "no orders queue"
	})
	resp, err := http.Get(s.url + "/api/dlq/orders")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || !strings.Contains(fmt.Sprint(msgs[0]["attributes"]), "eventplane-failure-reason") {
		t.Fatalf("DLQ messages = %v, want one with its failure reason", msgs)
	}
	resp, err = http.Post(s.url+"/api/dlq/orders/redrive", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var moved map[string]int
	_ = json.NewDecoder(resp.Body).Decode(&moved)
	resp.Body.Close()
	if moved["moved"] != 1 {
		t.Fatalf("redrive moved %v, want 1", moved)
	}
}

// Everything survives a restart: tables, objects, and queued messages a
// consumer did not take (analytics waits for PostgreSQL).
func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, func(string) string { return "" })
	s.post("[" + order("r-1", 10) + "," + order("r-2", 20) + "]")
	eventually(t, 10*time.Second, "orders stored", func() (bool, string) {
		st := s.state()
		return st.Tables["orders"] == 2, fmt.Sprint(st.Tables)
	})
	s.stop()
	s2 := start(t, dir, func(string) string { return "" })
	st := s2.state()
	if st.Tables["orders"] != 2 {
		t.Errorf("after restart the orders table has %d items, want 2", st.Tables["orders"])
	}
	for _, q := range st.Queues {
		if q["name"] == "order-analytics" && q["visible"].(float64) != 2 {
			t.Errorf("after restart order-analytics holds %v messages, want the 2 no consumer took", q["visible"])
		}
	}
	if c := consumerOf(st, "analytics"); !strings.Contains(c["disabled"].(string), "EVENTPLANE_POSTGRES_DSN") {
		t.Errorf("analytics without a DSN: %v, want it stopped with the variable named", c)
	}
}

func TestBadInputGetsClearErrors(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	resp, err := http.Post(s.url+"/events", "application/cloudevents+json", bytes.NewReader([]byte(`{"specversion":"1.0"`)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "error") {
		t.Errorf("truncated event: %s %s", resp.Status, b)
	}
	resp, err = http.Post(s.url+"/api/schedules/nope", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown schedule: %s", resp.Status)
	}
}

// A file the files function cannot use is a permanent failure: as
// lambda-files does, the function sends its event to its dead-letter queue
// with the reason and succeeds, so Lambda does not retry it.
func TestFunctionTargetDeadLettersPermanentFailures(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	dir := filepath.Join(s.dir, "buckets", s.p.Names.Buckets["uploads"], "incoming")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// The files function cannot tell the format of a .bin file.
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), []byte{0, 1, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the event in eventbridge-dlq", func() (bool, string) {
		msgs, err := s.p.DeadLetters("eventbridge-dlq")
		return err == nil && len(msgs) == 1, fmt.Sprint(len(msgs), err)
	})
	m, _ := s.p.DeadLetters("eventbridge-dlq")
	if r := m[0].MessageAttributes["eventplane-failure-reason"]; !strings.Contains(r, "permanent:") || !strings.Contains(r, "cannot tell the format") ||
		!strings.Contains(m[0].Body, `"key":"incoming/blob.bin"`) {
		t.Errorf("dead-lettered event: attributes %v body %s", m[0].MessageAttributes, m[0].Body)
	}
	// Counted when the function returns, a moment after its dead letter.
	eventually(t, 5*time.Second, "the invocation delivered once and not failed", func() (bool, string) {
		for _, r := range s.state().Rules {
			if r["name"] == "uploads-incoming" {
				return r["delivered"].(float64) == 1 && r["failed"].(float64) == 0, fmt.Sprint(r)
			}
		}
		return false, "no rule uploads-incoming"
	})
}

// Started tells a caller (eventplane dev) when the consumers are polling,
// so it prints "up" without polling Ready in a sleep loop.
func TestStartedIsClosedWhenTheConsumersPoll(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	select {
	case <-s.p.Started():
	case <-time.After(15 * time.Second):
		t.Fatal("Started not closed 15s after Run began")
	}
	if !s.p.Ready() {
		t.Fatal("Started closed while Ready reports false")
	}
}
