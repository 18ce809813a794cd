package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/eventplane/eventplane/consumers/engine"
)

type snapshotState struct{ s engine.Snapshot }

func (f snapshotState) Ready() bool               { return f.s.Ready }
func (f snapshotState) Snapshot() engine.Snapshot { return f.s }

// page GETs /debug as a browser does (Accept: text/html) and parses the
// answer with an HTML5 parser, which builds the tree a browser would.
func page(t *testing.T, s engine.Snapshot) (elements map[string]int, text string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/debug", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	DebugHandler(snapshotState{s}, false).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /debug = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	doc, err := html.Parse(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	elements = map[string]int{}
	var b strings.Builder
	for n := range doc.Descendants() {
		switch n.Type {
		case html.ElementNode:
			elements[n.Data]++
		case html.TextNode:
			b.WriteString(n.Data)
			b.WriteString("\n")
		}
	}
	return elements, b.String()
}

// Event data on the debug page comes from producers (types, ids, trace
// headers) and from the configuration (route names, patterns): none of it
// may become markup in the browser of the operator who port-forwards to it.
func TestDebugPageShowsHostileEventDataAsText(t *testing.T) {
	hostile := []string{`<script>alert(1)</script>`, `<img src=x onerror=alert(2)>`, `"><svg onload=alert(3)>`, `</code><b>bold</b>`, `a & b`}
	at := time.Date(2026, 12, 2, 8, 30, 15, 250e6, time.UTC)
	s := engine.Snapshot{
		Ready:    true,
		Routes:   []engine.RouteInfo{{Name: hostile[1], Pattern: `{"type":["` + hostile[3] + `"]}`}},
		Breakers: map[string]string{hostile[1]: "closed"},
		InFlight: []engine.InFlight{{MessageID: hostile[4], GroupID: hostile[2], ReceiveCount: 3, Since: at}},
		Recent: []engine.RecentEvent{{At: at, MessageID: "m-1", EventID: hostile[2], Type: hostile[0], Routes: []string{hostile[1], "audit"},
			Outcome: "processed", DurationMS: 1.26, TraceParent: hostile[3]}},
	}
	elements, text := page(t, s)
	for _, tag := range []string{"script", "img", "svg", "b"} {
		want := 0
		if tag == "b" {
			want = 1 // the page's own "ready: <b>true</b>"
		}
		if elements[tag] != want {
			t.Errorf("the page has %d <%s> elements, want %d: event data became markup", elements[tag], tag, want)
		}
	}
	for _, h := range hostile {
		if !strings.Contains(text, h) {
			t.Errorf("the page does not show %q as text:\n%s", h, text)
		}
	}
	for _, want := range []string{"ready: ", "true", "closed", "In flight (1)", "08:30:15.250", "1.3", "processed", hostile[1] + " audit"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	if elements["tr"] != 6 { // three header rows, a route, a message in flight, a recent event
		t.Errorf("%d table rows, want 6", elements["tr"])
	}
}

// A consumer that has not received anything yet shows an empty page, not an
// error.
func TestDebugPageOfAnIdleConsumer(t *testing.T) {
	elements, text := page(t, engine.Snapshot{})
	if !strings.Contains(text, "In flight (0)") || !strings.Contains(text, "false") || elements["table"] != 3 || elements["tr"] != 3 {
		t.Errorf("idle page: %v\n%s", elements, text)
	}
}
