package engine

import (
	"net/url"
	"sort"
	"sync"
	"time"

	ce "github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventplane/eventplane/consumers/delivery"
)

// RouteInfo describes a route for the debug page.
type RouteInfo struct {
	Name    string `json:"name"`
	Pattern string `json:"pattern,omitempty"`
}

// RecentEvent is one processed message (or event) on the debug page.
type RecentEvent struct {
	At           time.Time `json:"at"`
	MessageID    string    `json:"messageId"`
	ReceiveCount int       `json:"receiveCount"`
	EventID      string    `json:"eventId,omitempty"`
	Type         string    `json:"type,omitempty"`
	Source       string    `json:"source,omitempty"`
	TraceParent  string    `json:"traceparent,omitempty"`
	// TraceID is the trace of the message's handler spans (empty when
	// tracing is off).
	TraceID    string   `json:"traceId,omitempty"`
	Routes     []string `json:"routes,omitempty"`
	Outcome    string   `json:"outcome"`
	DurationMS float64  `json:"durationMs"`

	// What Snapshot formats into TraceID and Source: every message is
	// recorded, few are ever shown.
	traceID trace.TraceID
	source  *url.URL
}

// InFlight is one message being processed.
type InFlight struct {
	MessageID    string    `json:"messageId"`
	GroupID      string    `json:"groupId,omitempty"`
	ReceiveCount int       `json:"receiveCount"`
	Since        time.Time `json:"since"`
}

// Snapshot is what the admin /debug endpoint shows.
type Snapshot struct {
	Ready    bool              `json:"ready"`
	Routes   []RouteInfo       `json:"routes"`
	Breakers map[string]string `json:"breakers"`
	InFlight []InFlight        `json:"inFlight"`
	Recent   []RecentEvent     `json:"recent"`
}

const recentSize = 100

type debugState struct {
	routes []RouteInfo

	mu       sync.Mutex
	inflight map[string]InFlight
	recent   [recentSize]RecentEvent
	next     int
	count    int
}

func newDebugState() *debugState { return &debugState{inflight: map[string]InFlight{}} }

func (d *debugState) begin(m delivery.Message, at time.Time) {
	d.mu.Lock()
	d.inflight[m.Receipt] = InFlight{MessageID: m.MessageID, GroupID: m.GroupID, ReceiveCount: m.ReceiveCount, Since: at}
	d.mu.Unlock()
}

func (d *debugState) end(receipt string) {
	d.mu.Lock()
	delete(d.inflight, receipt)
	d.mu.Unlock()
}

func (d *debugState) record(m delivery.Message, s delivery.Settlement, start time.Time) {
	r := RecentEvent{At: time.Now().UTC(), MessageID: m.MessageID, ReceiveCount: m.ReceiveCount, Outcome: outcome(s),
		DurationMS: float64(time.Since(start).Microseconds()) / 1000, traceID: s.TraceID}
	if ev := s.Event; ev != nil {
		r.EventID, r.Type = ev.ID(), ev.Type()
		if ec, ok := ev.Context.(*ce.EventContextV1); ok {
			r.source = &ec.Source.URL // the event is not changed after it was processed
		} else {
			r.Source = ev.Source()
		}
		r.TraceParent = extension(ev, "traceparent")
	}
	r.Routes = append(r.Routes, s.Routes...)
	d.mu.Lock()
	d.recent[d.next] = r
	d.next = (d.next + 1) % recentSize
	d.count++
	d.mu.Unlock()
}

// outcome describes a settlement for the debug page.
func outcome(s delivery.Settlement) string {
	switch {
	case s.Control != nil:
		return "control: " + string(s.Control.Kind)
	case s.Outcome == delivery.Ack && s.Event != nil && len(s.Routes) == 0:
		return "unrouted"
	case s.Outcome == delivery.Ack:
		return "processed"
	case s.Outcome == delivery.DeadLetter:
		return "dead-lettered: " + s.Reason
	case s.Outcome == delivery.Release:
		return "released: " + s.Kind
	}
	return "retry: " + s.Err.Error()
}

// Snapshot returns the engine's state for the debug page: newest events first.
func (e *Engine) Snapshot() Snapshot {
	d := e.debug
	s := Snapshot{Ready: e.Ready(), Routes: d.routes, Breakers: e.Breakers()}
	d.mu.Lock()
	for _, f := range d.inflight {
		s.InFlight = append(s.InFlight, f)
	}
	n := min(d.count, recentSize)
	for i := 1; i <= n; i++ {
		r := d.recent[(d.next-i+recentSize)%recentSize]
		if r.traceID.IsValid() {
			r.TraceID = r.traceID.String()
		}
		if r.source != nil {
			r.Source = r.source.String()
		}
		s.Recent = append(s.Recent, r)
	}
	d.mu.Unlock()
	sort.Slice(s.InFlight, func(i, j int) bool { return s.InFlight[i].Since.Before(s.InFlight[j].Since) })
	return s
}
