package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventplane/eventplane/consumers/internal/testenv/testserver"
)

// The CLI as users run it: the built binary (exit codes included, which
// `go run` would turn into 1). EVENTPLANE_CLI overrides the binary, to run
// these tests against another build.
var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

const testVersion = "v0.0.0-clitest"

func cliBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("EVENTPLANE_CLI"); p != "" {
		return p
	}
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eventplane-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "eventplane")
		out, err := exec.Command("go", "build", "-o", cliPath,
			"-ldflags", "-X github.com/eventplane/eventplane/consumers/buildinfo.version="+testVersion, ".").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// exe runs the built binary and returns its exit code and output.
func exe(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("eventplane %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func busEvents(t *testing.T, url, bus string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct{ Buses []map[string]any }
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	for _, b := range st.Buses {
		if b["name"] == bus || b["name"] == "local-"+bus {
			return b["events"].(float64)
		}
	}
	t.Fatalf("no bus %s in %v", bus, st.Buses)
	return 0
}

// One bad event among 5,000 costs that event only: every batch is sent,
// the rejection names its 1-based position and the reason on a line of its
// own, the summary counts both, and the exit code says something was
// rejected. (It used to stop at the bad batch: 2,500 sent, the rest never
// attempted, exit 1 with "events 2501..2600 rejected".)
func TestSendReportsEachRejectedEventAndSendsTheRest(t *testing.T) {
	url := startDev(t)
	var lines []string
	for i := 1; i <= 5000; i++ {
		if i == 2501 {
			lines = append(lines, `{"specversion":"1.0","id":"bad-total","source":"cli","type":"io.eventplane.demo.order.placed.v1","datacontenttype":"application/json","data":{"orderId":"x","customerId":"c","currency":"EUR","total":"lots","items":[]}}`)
			continue
		}
		lines = append(lines, orderLine(i))
	}
	file := filepath.Join(t.TempDir(), "orders.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := exe(t, "", "send", "--endpoint", url, file)
	if code != 1 {
		t.Errorf("exit %d, want 1 (an event was rejected)", code)
	}
	if strings.TrimSpace(out) != "sent 4,999, rejected 1" {
		t.Errorf("stdout %q, want the summary \"sent 4,999, rejected 1\"", out)
	}
	if !regexp.MustCompile(`(?m)^event 2501 rejected: .*total`).MatchString(errs) {
		t.Errorf("stderr does not name event 2501 and its reason on a line of its own:\n%s", errs)
	}
	if strings.Count(errs, "rejected:") != 1 {
		t.Errorf("stderr reports %d rejections, want 1:\n%s", strings.Count(errs, "rejected:"), errs)
	}
	if n := busEvents(t, url, "main"); n != 4999 {
		t.Errorf("the main bus received %v events, want 4999", n)
	}
}

// Input that cannot be read is exit 2 naming the place, and nothing is sent.
func TestSendNamesTheMalformedElement(t *testing.T) {
	url := startDev(t)
	doc := "[\n" + orderLine(1) + ",\n" + `{"specversion": "1.0", "id": }` + ",\n" + orderLine(3) + "\n]"
	code, out, errs := exe(t, doc, "send", "--endpoint", url)
	if code != 2 || !strings.Contains(errs, "event 2 of the JSON array (line 3)") || !strings.Contains(errs, "nothing was sent") {
		t.Errorf("exit %d, stdout %q, stderr %q: want exit 2 naming event 2 of the array", code, out, errs)
	}
	code, _, errs = exe(t, "[1, "+orderLine(2)+"]", "send", "--endpoint", url)
	if code != 2 || !strings.Contains(errs, "event 1 of the JSON array (line 1): not a JSON object") {
		t.Errorf("array of a number: exit %d, stderr %q", code, errs)
	}
	if n := busEvents(t, url, "main"); n != 0 {
		t.Errorf("%v events reached the bus, want none", n)
	}
}

// Every command that reads input says so when the input is empty.
func TestEmptyInputIsAnError(t *testing.T) {
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"send"}, "empty input: standard input holds nothing to read"},
		{"  \n", []string{"send"}, "empty input"},
		{"[ ]", []string{"send"}, "empty input: the JSON array holds no events"},
		{"", []string{"normalize"}, "empty input"},
		{"", []string{"match", "--pattern", "testdata/pattern.json"}, "empty input"},
	} {
		code, _, errs := exe(t, tc.stdin, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v with %q: exit %d, stderr %q, want exit 2 and %q", tc.args, tc.stdin, code, errs, tc.want)
		}
	}
}

// Help looks the same everywhere and --help is not an error.
func TestHelpIsUniform(t *testing.T) {
	for _, cmd := range [][]string{{"normalize"}, {"match"}, {"bootstrap"}, {"dev"}, {"send"}, {"tail"}, {"dlq"}, {"dlq", "list"}} {
		for _, h := range []string{"--help", "-h"} {
			code, out, errs := exe(t, "", append(cmd, h)...)
			name := strings.Join(cmd[:1], " ")
			if code != 0 {
				t.Errorf("eventplane %v %s: exit %d, want 0 (stderr %q)", cmd, h, code, errs)
			}
			if !strings.HasPrefix(out, "Usage: eventplane "+name) || !strings.Contains(out, "\nFlags:\n") {
				t.Errorf("eventplane %v %s: help is not \"Usage: eventplane %s ... Flags:\":\n%s", cmd, h, name, out)
			}
			if strings.Contains(out+errs, "Usage of") || regexp.MustCompile(`--[a-z-]+ (string|int|sqsqueue) `).MatchString(out) {
				t.Errorf("eventplane %v %s: Go's bare flag help or a type for a placeholder:\n%s", cmd, h, out)
			}
		}
	}
	if code, out, _ := exe(t, "", "--help"); code != 0 || !strings.HasPrefix(out, "Usage: eventplane <command>") {
		t.Errorf("eventplane --help: exit %d\n%s", code, out)
	}
	if code, _, errs := exe(t, "", "send", "--bogus"); code != 2 || !strings.Contains(errs, "flag provided but not defined: -bogus (see 'eventplane send --help')") {
		t.Errorf("unknown flag: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := exe(t, ""); code != 2 || !strings.Contains(errs, "Usage: eventplane") {
		t.Errorf("no command: exit %d, stderr %q", code, errs)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := exe(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "eventplane "+testVersion+" (go") {
			t.Errorf("eventplane %v: exit %d, %q", args, code, out)
		}
	}
}

// --endpoint is eventplane dev in every command; an AWS endpoint is
// --aws-endpoint everywhere (bootstrap's used to be --endpoint).
func TestEndpointMeansEventplaneDevEverywhere(t *testing.T) {
	for _, cmd := range []string{"send", "tail", "dlq"} {
		_, out, _ := exe(t, "", cmd, "--help")
		if !regexp.MustCompile(`--endpoint URL +URL of eventplane dev`).MatchString(out) {
			t.Errorf("%s --help: --endpoint is not eventplane dev's URL:\n%s", cmd, out)
		}
	}
	_, out, _ := exe(t, "", "bootstrap", "--help")
	if strings.Contains(out, "--endpoint ") || !strings.Contains(out, "--aws-endpoint URL") {
		t.Errorf("bootstrap --help:\n%s", out)
	}
}

// tail shows what was processed before it started, then follows.
func TestTailShowsRecentEventsFirst(t *testing.T) {
	url := startDev(t)
	var lines []string
	for i := range 30 {
		lines = append(lines, orderLine(i))
	}
	if code, _, errs := exe(t, strings.Join(lines, "\n"), "send", "--endpoint", url); code != 0 {
		t.Fatalf("send: %s", errs)
	}
	deadline := time.Now().Add(15 * time.Second)
	var out string
	for {
		_, out, _ = exe(t, "", "tail", "--endpoint", url, "--follow=false")
		if strings.Count(out, "\n") == 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(out, "\n"); n != 20 {
		t.Fatalf("tail --follow=false printed %d lines, want the last 20:\n%s", n, out)
	}
	_, out, _ = exe(t, "", "tail", "--endpoint", url, "--follow=false", "-n", "3")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("tail -n 3 printed %d lines:\n%s", n, out)
	}
	_, out, _ = exe(t, "", "tail", "--endpoint", url, "--follow=false", "--since", "2999-01-01T00:00:00Z")
	if out != "" {
		t.Errorf("tail --since the future printed:\n%s", out)
	}
	if code, _, errs := exe(t, "", "tail", "--since", "yesterday"); code != 2 || !strings.Contains(errs, `--since "yesterday"`) {
		t.Errorf("bad --since: exit %d, %q", code, errs)
	}

	// Following: a running tail prints the history, then a new event.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), "tail", "--endpoint", url, "-n", "1")
	var buf syncBuffer
	cmd.Stdout = &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	waitFor(t, func() bool { return strings.Count(buf.String(), "\n") == 1 }, "the one history line", &buf)
	if code, _, errs := exe(t, orderLine(999), "send", "--endpoint", url); code != 0 {
		t.Fatalf("send: %s", errs)
	}
	// (tail shows the id EventBridge gave the event, not the producer's.)
	waitFor(t, func() bool { return strings.Count(buf.String(), "\n") >= 2 }, "the new event", &buf)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func waitFor(t *testing.T, cond func() bool, what string, buf *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("tail did not print %s:\n%s", what, buf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// `eventplane dev` as `make run` starts it: a private PostgreSQL from the
// system's binaries (data under --dir) so the analytics consumer runs, and
// Ctrl-C is one summary line and exit 0, even with work in flight.
func TestDevRunsPostgresAndStopsCleanly(t *testing.T) {
	port, err := testserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if os.Geteuid() == 0 { // PostgreSQL runs as the postgres user, which must reach dir
		if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
			t.Fatal(err)
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(cliBinary(t), "dev", "--topology", "../../../api/topology.yaml", "--dir", dir, "--addr", url[len("http://"):])
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	waitFor(t, func() bool { return strings.Contains(out.String(), "stop        Ctrl-C") }, "its start-up lines", &out)
	if !regexp.MustCompile(`(?m)^  postgres    postgres://eventplane@127\.0\.0\.1:\d+/`).MatchString(out.String()) {
		t.Errorf("start-up output names no PostgreSQL:\n%s\n%s", out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "data", "PG_VERSION")); err != nil {
		t.Errorf("PostgreSQL's data is not under --dir: %v", err)
	}
	resp, err := http.Get(url + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Consumers []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	for _, c := range st.Consumers {
		if c["name"] == "analytics" && c["disabled"] != "" {
			t.Errorf("analytics is stopped: %v", c["disabled"])
		}
	}

	var lines []string
	for i := range 2000 {
		lines = append(lines, orderLine(i))
	}
	if code, _, errs := exe(t, strings.Join(lines, "\n"), "send", "--endpoint", url); code != 0 {
		t.Fatalf("send: %s", errs)
	}
	before := errb.String()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("eventplane dev after Ctrl-C: %v, want exit 0\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("eventplane dev did not stop within 30 s of Ctrl-C")
	}
	if after := strings.TrimPrefix(errb.String(), before); strings.TrimSpace(after) != "" {
		t.Errorf("Ctrl-C logged more than the summary:\n%.3000s", after)
	}
	outLines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := outLines[len(outLines)-1]; !strings.HasPrefix(last, "eventplane stopped in ") {
		t.Errorf("last line %q, want the summary \"eventplane stopped in ...\"", last)
	}
}
