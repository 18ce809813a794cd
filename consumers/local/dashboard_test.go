package local_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromium finds Debian's Chromium, failing with the command that installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install it with `hack/chromium.sh` (apt-get install chromium)")
	return ""
}

func headless(t *testing.T, args ...string) []byte {
	t.Helper()
	out, _ := headlessLogged(t, args...)
	return out
}

// headlessLogged runs Chromium and also returns what the page wrote to its
// console: with --enable-logging=stderr Chromium logs every console
// message and every uncaught exception as an "INFO:CONSOLE" line.
func headlessLogged(t *testing.T, args ...string) (stdout []byte, console []string) {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1200", "--virtual-time-budget=4000"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, chromium(t), append(base, args...)...)
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return out, console
}

var statusRE = regexp.MustCompile(`<span id="status">([^<]*)</span>`)

// dashboard loads the page in Chromium and fails the test on any console
// output (the page logs nothing when it works: a script error, a failed
// fetch or a CSP violation all show up there) or when the header does not
// say the platform is ready.
func dashboard(t *testing.T, url string) string {
	t.Helper()
	out, console := headlessLogged(t, "--dump-dom", url+"/")
	dom := string(out)
	for _, line := range console {
		t.Errorf("dashboard console: %s", line)
	}
	if !strings.Contains(dom, `data-loaded="true"`) {
		t.Errorf("the dashboard's script did not run to the end")
	}
	if m := statusRE.FindStringSubmatch(dom); m == nil || !strings.HasPrefix(m[1], "ready") {
		t.Errorf("dashboard header is not \"ready ...\": %q", m)
	}
	return dom
}

// A fresh platform has processed nothing: the dashboard must still draw
// every table and the graph (it crashed on "recent": null).
func TestDashboardOnEmptyPlatform(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	dom := dashboard(t, s.url)
	for _, want := range []string{`data-node="consumer:orders"`, "order-analytics", "<td>orders-placed</td>", "0 recent events"} {
		if !strings.Contains(dom, want) {
			t.Errorf("empty dashboard lacks %q", want)
		}
	}
}

// After a restart the tables hold data but no consumer has processed
// anything yet in this process.
func TestDashboardAfterRestart(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, func(string) string { return "" })
	s.post("[" + order("r-1", 30) + "]")
	eventually(t, 10*time.Second, "order stored", func() (bool, string) { return s.state().Tables["orders"] == 1, "waiting" })
	s.stop()

	s = start(t, dir, func(string) string { return "" })
	dom := dashboard(t, s.url)
	if !strings.Contains(dom, "table orders</td><td class=\"n\">1 item<") {
		t.Errorf("restarted dashboard does not show the stored order (\"1 item\")")
	}
}

// The dashboard in a real browser: the page loads, its script fetches the
// platform's state and topology and renders them (the DOM after scripts
// ran holds the consumers, the rules' counts, the graph and the processed
// event), and a screenshot shows a drawn page, not a blank one.
func TestDashboardInHeadlessChromium(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	s.post("[" + order("d-1", 2500) + "]")
	// Both of the orders consumer's routes (store, archive: the archive
	// commits within 1 s) must have run before the page is read.
	eventually(t, 10*time.Second, "order handled by both routes", func() (bool, string) {
		st := s.state()
		o := consumerOf(st, "orders")
		return st.Tables["orders"] == 1 && len(st.Recent) > 0 && o["handled"] == float64(1) && o["routeRuns"] == float64(2),
			fmt.Sprintf("orders %v", o)
	})

	dom := dashboard(t, s.url)
	for _, want := range []string{
		`data-node="consumer:orders"`,        // the graph
		`data-node="rule:orders-placed"`,     // ...with the rules
		"io.eventplane.demo.order.placed.v1", // the recent event
		"route rows needs PostgreSQL",        // analytics is stopped and says why
		"order-analytics",                    // the queues table
		// the orders consumer: 1 event handled, 2 route runs (store, archive)
		"<td>orders</td><td>orders</td><td class=\"n\">1</td><td class=\"n\">2</td>",
		`data-edge="source:api&gt;lambda:ingest"`, // the ingest Lambda is wired in
		`data-edge="lambda:ingest&gt;bus:main"`,
		"<td>orders-placed</td><td>main</td>", // the bus has one name: the graph's
		"at most 1 s here",                    // the archive's group commit explained
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered dashboard lacks %q", want)
		}
	}
	if strings.Contains(dom, "local-main") {
		t.Error("the dashboard calls the main bus local-main somewhere and main elsewhere")
	}
	// Laid out by flow: every edge runs left to right.
	xs := map[string]float64{}
	for _, m := range regexp.MustCompile(`<g data-node="([^"]+)"><title>[^<]*</title><rect x="([0-9.]+)"`).FindAllStringSubmatch(dom, -1) {
		xs[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	edges := regexp.MustCompile(`data-edge="([^"]+)&gt;([^"]+)"`).FindAllStringSubmatch(dom, -1)
	if len(xs) < 10 || len(edges) < 10 {
		t.Errorf("graph has %d nodes and %d edges", len(xs), len(edges))
	}
	for _, e := range edges {
		if xs[e[1]] >= xs[e[2]] {
			t.Errorf("edge %s -> %s runs right to left (x %v -> %v)", e[1], e[2], xs[e[1]], xs[e[2]])
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%.4000s", dom)
	}

	shot := filepath.Join(t.TempDir(), "dashboard.png")
	if d := os.Getenv("EVENTPLANE_SCREENSHOT"); d != "" {
		shot = d // keep it to look at
	}
	headless(t, "--screenshot="+shot, s.url+"/")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 1000 || r.Dy() < 800 {
		t.Errorf("screenshot is %v, want the 1400x1200 window", r)
	}
	if n := colours(img); n < 8 {
		t.Errorf("screenshot has %d distinct colours: a blank or unstyled page", n)
	}
	if !darkHeader(img) {
		t.Error("screenshot lacks the dark header bar at the top")
	}
}

func colours(img image.Image) int {
	seen := map[uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 7 {
		for x := r.Min.X; x < r.Max.X; x += 7 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[(cr>>12)<<8|(cg>>12)<<4|cb>>12] = true
		}
	}
	return len(seen)
}

// darkHeader checks the header's #1d2330 band across the top of the page.
func darkHeader(img image.Image) bool {
	r := img.Bounds()
	dark := 0
	for x := r.Min.X; x < r.Max.X; x += 20 {
		cr, cg, cb, _ := img.At(x, r.Min.Y+5).RGBA()
		if cr>>8 < 60 && cg>>8 < 60 && cb>>8 < 80 {
			dark++
		}
	}
	return dark > (r.Dx()/20)*8/10
}
