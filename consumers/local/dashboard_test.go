package local_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
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
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1200", "--virtual-time-budget=4000"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium(t), append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}

// The dashboard in a real browser: the page loads, its script fetches the
// platform's state and topology and renders them (the DOM after scripts
// ran holds the consumers, the rules' counts, the graph and the processed
// event), and a screenshot shows a drawn page, not a blank one.
func TestDashboardInHeadlessChromium(t *testing.T) {
	s := start(t, t.TempDir(), func(string) string { return "" })
	s.post("[" + order("d-1", 2500) + "]")
	eventually(t, 10*time.Second, "order handled", func() (bool, string) {
		st := s.state()
		return st.Tables["orders"] == 1 && len(st.Recent) > 0, "waiting"
	})

	dom := string(headless(t, "--dump-dom", s.url+"/"))
	for _, want := range []string{
		`data-loaded="true"`,                 // the script ran to the end
		`data-node="consumer:orders"`,        // the graph
		`data-node="rule:orders-placed"`,     // ...with the rules
		"io.eventplane.demo.order.placed.v1", // the recent event
		"route rows needs PostgreSQL",        // analytics is stopped and says why
		"order-analytics",                    // the queues table
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered dashboard lacks %q", want)
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
