// Package admin serves a consumer's operational endpoints on two ports:
//
// The admin port (Handler; all interfaces, for probes, Prometheus and the
// operator) shows no event data:
//
//	/metrics   Prometheus metrics
//	/healthz   liveness: the process serves requests
//	/readyz    readiness: the source answered a receive and no shutdown started
//	/inflight  how many messages are in flight (a count, for pod deletion cost)
//
// The debug port (DebugHandler; loopback only, reached with `kubectl
// port-forward`, which connects to the pod's own loopback) shows what the
// consumer is working on:
//
//	/debug     routes, breakers, in-flight messages and recent events (JSON;
//	           an HTML table for browsers)
//	/debug/pprof/  Go profiles, when enabled
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventplane/eventplane/consumers/engine"
)

// State is what the admin server reads from the engine.
type State interface {
	Ready() bool
	Snapshot() engine.Snapshot
}

// InFlight is the body of GET /inflight.
type InFlight struct {
	InFlight int `json:"inFlight"`
}

// Handler returns the admin port's endpoints: metrics, probes and the
// in-flight count; nothing that shows an event.
func Handler(st State, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !st.Ready() {
			http.Error(w, "not ready: the source has not answered yet, or shutdown started", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /inflight", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(InFlight{InFlight: len(st.Snapshot().InFlight)})
	})
	return mux
}

// DebugHandler returns the debug port's endpoints: /debug (event ids,
// types, trace ids) and, with withPprof, Go's profiles. Serve it on a
// loopback address only.
func DebugHandler(st State, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug", func(w http.ResponseWriter, r *http.Request) {
		snap := st.Snapshot()
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_ = writeDebugPage(w, snap)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(snap)
	})
	if withPprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Serve listens on addr and serves h until ctx is done.
func Serve(ctx context.Context, addr string, h http.Handler) (net.Addr, func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; err != http.ErrServerClosed {
			return err
		}
		return nil
	}
	return ln.Addr(), stop, nil
}

// writeDebugPage renders the snapshot as an HTML page for a browser. It
// writes the markup by hand, every value through html.EscapeString, instead
// of using html/template: text/template's executor calls
// reflect.Value.MethodByName with names it learns at run time, and a binary
// that can do that keeps every exported method of every type it links (the
// linker cannot prune them). In the consumer that was 12 MB of a 36 MB
// binary (every S3, DynamoDB, EventBridge and SNS operation) and ~5 MB of its
// resident memory, for a page of four tables.
func writeDebugPage(w io.Writer, s engine.Snapshot) error {
	esc := html.EscapeString
	clock := func(t time.Time) string { return t.Format("15:04:05.000") }
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html><head><meta charset="utf-8"><title>eventplane consumer</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem;text-align:left}code{font-size:.85rem}</style></head>
<body><h1>eventplane consumer</h1><p>ready: <b>`)
	b.WriteString(strconv.FormatBool(s.Ready))
	b.WriteString("</b></p>\n<h2>Routes</h2><table><tr><th>name</th><th>pattern</th><th>breaker</th></tr>\n")
	for _, r := range s.Routes {
		row(&b, esc(r.Name), "<code>"+esc(r.Pattern)+"</code>", esc(s.Breakers[r.Name]))
	}
	fmt.Fprintf(&b, "</table>\n<h2>In flight (%d)</h2><table><tr><th>message</th><th>group</th><th>receive count</th><th>since</th></tr>\n", len(s.InFlight))
	for _, m := range s.InFlight {
		row(&b, esc(m.MessageID), esc(m.GroupID), strconv.Itoa(m.ReceiveCount), clock(m.Since))
	}
	b.WriteString("</table>\n<h2>Recent</h2><table><tr><th>at</th><th>message</th><th>event</th><th>type</th><th>routes</th><th>outcome</th><th>ms</th><th>traceparent</th></tr>\n")
	for _, e := range s.Recent {
		row(&b, clock(e.At), esc(e.MessageID), esc(e.EventID), esc(e.Type), esc(strings.Join(e.Routes, " ")), esc(e.Outcome),
			strconv.FormatFloat(e.DurationMS, 'f', 1, 64), "<code>"+esc(e.TraceParent)+"</code>")
	}
	b.WriteString("</table>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// row writes one table row of cells that are already HTML.
func row(b *strings.Builder, cells ...string) {
	b.WriteString("<tr>")
	for _, c := range cells {
		b.WriteString("<td>")
		b.WriteString(c)
		b.WriteString("</td>")
	}
	b.WriteString("</tr>\n")
}
