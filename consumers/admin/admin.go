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
	"html/template"
	"net"
	"net/http"
	"net/http/pprof"
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
			_ = debugPage.Execute(w, snap)
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

var debugPage = template.Must(template.New("debug").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>eventplane consumer</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;margin-bottom:1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem;text-align:left}code{font-size:.85rem}</style></head>
<body><h1>eventplane consumer</h1><p>ready: <b>{{.Ready}}</b></p>
<h2>Routes</h2><table><tr><th>name</th><th>pattern</th><th>breaker</th></tr>
{{range .Routes}}<tr><td>{{.Name}}</td><td><code>{{.Pattern}}</code></td><td>{{index $.Breakers .Name}}</td></tr>{{end}}</table>
<h2>In flight ({{len .InFlight}})</h2><table><tr><th>message</th><th>group</th><th>receive count</th><th>since</th></tr>
{{range .InFlight}}<tr><td>{{.MessageID}}</td><td>{{.GroupID}}</td><td>{{.ReceiveCount}}</td><td>{{.Since.Format "15:04:05.000"}}</td></tr>{{end}}</table>
<h2>Recent</h2><table><tr><th>at</th><th>message</th><th>event</th><th>type</th><th>routes</th><th>outcome</th><th>ms</th><th>traceparent</th></tr>
{{range .Recent}}<tr><td>{{.At.Format "15:04:05.000"}}</td><td>{{.MessageID}}</td><td>{{.EventID}}</td><td>{{.Type}}</td><td>{{range .Routes}}{{.}} {{end}}</td><td>{{.Outcome}}</td><td>{{printf "%.1f" .DurationMS}}</td><td><code>{{.TraceParent}}</code></td></tr>{{end}}</table>
</body></html>`))
