package local

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/eventplane/eventplane/api/events"
	"github.com/eventplane/eventplane/consumers/engine"
	"github.com/eventplane/eventplane/consumers/ingest"
)

//go:embed dashboard.html
var dashboardHTML []byte

// Handler serves the local platform over HTTP:
//
//	POST /events                     the ingest API (as API Gateway + lambda-ingest in the cloud)
//	GET  /                           the dashboard
//	GET  /api/state                  counts, depths, consumers, recent events (JSON)
//	GET  /api/topology               the topology as a graph (JSON)
//	GET  /api/tail                   processed events as they happen (Server-Sent Events)
//	GET  /api/dlq/{queue}            a queue's dead-letter messages
//	POST /api/dlq/{queue}/redrive    move them back to the queue
//	POST /api/schedules/{name}       fire a schedule now
//	GET  /healthz, /readyz
//
// Every state-changing request (POST) a browser marks as cross-origin is
// refused with 403 (http.CrossOriginProtection: Sec-Fetch-Site, else Origin
// against Host), so a web page open in the developer's browser cannot
// ingest, redrive or fire schedules; the dashboard (same origin) and
// clients that are not browsers (curl, eventplane send) are served.
func (p *Platform) Handler(schemas *events.Registry) http.Handler {
	return crossOriginProtected(p.routes(schemas))
}

func crossOriginProtected(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused: " + r.Method + " " + r.URL.Path +
			" is only served to the dashboard's own origin and to clients that are not browsers"})
	}))
	return cop.Handler(h)
}

func (p *Platform) routes(schemas *events.Registry) http.Handler {
	mux := http.NewServeMux()
	ing := &ingest.Handler{Bus: p.Names.Buses[p.top.Ingest.Bus], API: p.Bus, Schemas: schemas, Tracer: p.opts.Tracer}
	mux.Handle("POST /events", ing)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'")
		_, _ = w.Write(dashboardHTML)
	})
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.State()) })
	mux.HandleFunc("GET /api/topology", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.Graph()) })
	mux.HandleFunc("GET /api/tail", p.tail)
	mux.HandleFunc("GET /api/dlq/{queue}", func(w http.ResponseWriter, r *http.Request) {
		msgs, err := p.DeadLetters(r.PathValue("queue"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		out := []map[string]any{}
		for _, m := range msgs {
			out = append(out, map[string]any{"messageId": m.MessageID, "body": m.Body, "attributes": m.MessageAttributes, "receiveCount": m.ReceiveCount})
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /api/dlq/{queue}/redrive", func(w http.ResponseWriter, r *http.Request) {
		n, err := p.Redrive(r.PathValue("queue"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error(), "moved": n})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"moved": n})
	})
	mux.HandleFunc("POST /api/schedules/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := p.Trigger(r.PathValue("name")); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"triggered": r.PathValue("name")})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.Ready() {
			http.Error(w, "not ready: consumers are starting", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Processed is one event a consumer handled, for the dashboard and tail.
type Processed struct {
	Consumer string `json:"consumer"`
	engine.RecentEvent
}

// State is what the dashboard shows.
type State struct {
	UptimeSeconds float64          `json:"uptimeSeconds"`
	Ready         bool             `json:"ready"`
	Buses         []map[string]any `json:"buses"`
	Rules         []map[string]any `json:"rules"`
	Topics        []map[string]any `json:"topics"`
	Queues        []map[string]any `json:"queues"`
	Consumers     []map[string]any `json:"consumers"`
	Tables        map[string]int   `json:"tables"`
	Recent        []Processed      `json:"recent"`
}

// State returns the platform's live figures.
func (p *Platform) State() State {
	// Every list is empty, never null, before anything happened (the
	// dashboard reads .length of each).
	st := State{UptimeSeconds: time.Since(p.started).Seconds(), Ready: p.Ready(), Tables: map[string]int{},
		Buses: []map[string]any{}, Rules: []map[string]any{}, Topics: []map[string]any{}, Queues: []map[string]any{},
		Consumers: []map[string]any{}}
	// Buses by their topology name ("main"), as the graph and the rules
	// table show them; "physical" is the local resource name.
	logical := map[string]string{"default": "default"}
	for l, phys := range p.Names.Buses {
		logical[phys] = l
	}
	for _, name := range sortedKeys(p.Bus.buses) {
		st.Buses = append(st.Buses, map[string]any{"name": logical[name], "physical": name, "events": p.Bus.buses[name].count.Load()})
	}
	for _, r := range p.top.Rules {
		c := p.rules[r.Name]
		bus := r.Bus
		if bus == "" {
			bus = "default"
		}
		st.Rules = append(st.Rules, map[string]any{"name": r.Name, "bus": bus, "matched": c.Matched.Load(),
			"delivered": c.Delivered.Load(), "failed": c.Failed.Load()})
	}
	for _, t := range p.top.Topics {
		subs := []map[string]any{}
		for _, s := range t.Subscriptions {
			c := p.subCnt[t.Name+"/"+s.Queue]
			subs = append(subs, map[string]any{"queue": s.Queue, "delivered": c.Delivered.Load()})
		}
		st.Topics = append(st.Topics, map[string]any{"name": t.Name, "published": p.topicCnt[t.Name].Matched.Load(), "subscriptions": subs})
	}
	for _, q := range p.top.Queues {
		s := p.queues[q.Name].Stats()
		m := map[string]any{"name": q.Name, "visible": s.Visible, "inFlight": s.InFlight, "delayed": s.Delayed}
		if d := p.dlqs[q.Name]; d != nil {
			ds := d.Stats()
			m["deadLetters"] = ds.Visible + ds.InFlight
		}
		st.Queues = append(st.Queues, m)
	}
	recent := map[string][]engine.RecentEvent{}
	for _, c := range p.consumers {
		// handled counts events (messages processed and acknowledged);
		// routeRuns counts handler runs (one per matching route).
		m := map[string]any{"name": c.Name, "queue": c.Queue, "handled": int64(0), "deadLettered": int64(0),
			"routeRuns": c.routeRun.Load(), "failed": c.failed.Load(), "disabled": c.Disabled, "inFlight": 0}
		if c.source != nil {
			m["handled"], m["deadLettered"] = c.source.handled(), c.source.deadLettered.Load()
		}
		if c.engine != nil {
			snap := c.engine.Snapshot()
			m["inFlight"] = len(snap.InFlight)
			m["breakers"] = snap.Breakers
			recent[c.Name] = snap.Recent
		}
		st.Consumers = append(st.Consumers, m)
	}
	counts := p.Tables.Count() // one pass over the database, not one per table
	for logical, physical := range p.Names.Tables {
		st.Tables[logical] = counts[physical]
	}
	st.Recent = newestFirst(recent, 50)
	return st
}

// recent returns the latest events the consumers processed, newest first.
func (p *Platform) recent(limit int) []Processed {
	byConsumer := map[string][]engine.RecentEvent{}
	for _, c := range p.consumers {
		if c.engine != nil {
			byConsumer[c.Name] = c.engine.Snapshot().Recent
		}
	}
	return newestFirst(byConsumer, limit)
}

func newestFirst(byConsumer map[string][]engine.RecentEvent, limit int) []Processed {
	out := []Processed{} // [] in JSON, not null, when nothing was processed yet
	for name, events := range byConsumer {
		for _, r := range events {
			out = append(out, Processed{Consumer: name, RecentEvent: r})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out[:min(len(out), limit)]
}

// Node and Edge make the topology graph.
type Node struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"` // source, bus, rule, topic, lambda, queue, consumer, table, bucket
	Label string `json:"label"`
}

// Edge connects two nodes.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Graph returns the topology as nodes and edges, from where events enter
// (the ingest API, the upload bucket, schedules) to the consumers.
func (p *Platform) Graph() map[string]any {
	var nodes []Node
	var edges []Edge
	add := func(id, kind, label string) { nodes = append(nodes, Node{ID: id, Kind: kind, Label: label}) }
	add("source:api", "source", "POST /events")
	add("bus:default", "bus", "default")
	for _, b := range p.top.Buses {
		add("bus:"+b.Name, "bus", b.Name)
	}
	// The ingest API is the ingest Lambda in the cloud (API Gateway ->
	// lambda-ingest -> main bus); locally the same handler runs in process.
	ingestLambda := ""
	for _, l := range p.top.Lambdas {
		if l.Handler == "lambda-ingest" {
			ingestLambda = l.Name
		}
	}
	if ingestLambda != "" {
		edges = append(edges, Edge{"source:api", "lambda:" + ingestLambda}, Edge{"lambda:" + ingestLambda, "bus:main"})
	} else {
		edges = append(edges, Edge{"source:api", "bus:main"})
	}
	for _, b := range p.top.Buckets {
		if b.EventBridge {
			add("source:bucket:"+b.Name, "source", "bucket "+b.Name)
			edges = append(edges, Edge{"source:bucket:" + b.Name, "bus:default"})
		}
	}
	for _, s := range p.top.Schedules {
		add("source:schedule:"+s.Name, "source", "schedule "+s.Name)
		edges = append(edges, Edge{"source:schedule:" + s.Name, "queue:" + s.Queue})
	}
	for _, r := range p.top.Rules {
		bus := r.Bus
		if bus == "" {
			bus = "default"
		}
		add("rule:"+r.Name, "rule", r.Name)
		edges = append(edges, Edge{"bus:" + bus, "rule:" + r.Name})
		for _, t := range r.Targets {
			switch {
			case t.Queue != "":
				edges = append(edges, Edge{"rule:" + r.Name, "queue:" + t.Queue})
			case t.Topic != "":
				edges = append(edges, Edge{"rule:" + r.Name, "topic:" + t.Topic})
			case t.Lambda != "":
				edges = append(edges, Edge{"rule:" + r.Name, "lambda:" + t.Lambda})
			}
		}
	}
	for _, t := range p.top.Topics {
		add("topic:"+t.Name, "topic", t.Name)
		for _, s := range t.Subscriptions {
			edges = append(edges, Edge{"topic:" + t.Name, "queue:" + s.Queue})
		}
	}
	for _, l := range p.top.Lambdas {
		add("lambda:"+l.Name, "lambda", "λ "+l.Name)
	}
	for _, q := range p.top.Queues {
		add("queue:"+q.Name, "queue", q.Name)
	}
	for _, c := range p.top.Consumers {
		add("consumer:"+c.Name, "consumer", c.Name)
		edges = append(edges, Edge{"queue:" + c.Queue, "consumer:" + c.Name})
	}
	return map[string]any{"nodes": nodes, "edges": edges}
}

// tail streams processed events as Server-Sent Events ("event: processed"):
// first the n most recent ones (?n=, default 0) processed after ?since=
// (RFC 3339), oldest first, then each new one as it is processed, unless
// ?follow=false. ?from=start sends every event still kept first.
func (p *Platform) tail(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	n := 0
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("n=%q: want a count of 0 or more", v), http.StatusBadRequest)
			return
		}
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		var err error
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			http.Error(w, fmt.Sprintf("since=%q: want an RFC 3339 time", v), http.StatusBadRequest)
			return
		}
	}
	if q.Get("from") == "start" {
		n = maxTail
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": tailing processed events\n\n")
	send := func(e Processed) {
		b, _ := json.Marshal(e)
		fmt.Fprintf(w, "event: processed\ndata: %s\n\n", b)
	}
	// The history: what the consumers still keep, newest first. Everything
	// in it counts as seen, so following starts right after its newest.
	recent := p.recent(maxTail)
	var history []Processed
	for _, e := range recent {
		if len(history) < n && e.At.After(since) {
			history = append(history, e)
		}
	}
	for i := len(history) - 1; i >= 0; i-- {
		send(history[i])
	}
	if len(recent) > 0 && recent[0].At.After(since) {
		since = recent[0].At
	}
	fl.Flush()
	if q.Get("follow") == "false" {
		return
	}
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		recent := p.recent(50) // only the events: no queue or table figures per tick
		for i := len(recent) - 1; i >= 0; i-- {
			if e := recent[i]; e.At.After(since) {
				send(e)
				since = e.At
			}
		}
		fl.Flush()
	}
}

// maxTail bounds the history /api/tail sends (each consumer keeps its last
// 100 events).
const maxTail = 1000
