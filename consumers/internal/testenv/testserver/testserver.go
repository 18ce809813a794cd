// Package testserver holds what the test-support packages that run real
// servers on loopback (moto, PostgreSQL, the Lambda emulator) share: a free
// loopback port, and one server per test binary, started on first use.
package testserver

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port free on 127.0.0.1.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Shared is one server for a whole test binary.
type Shared[T interface{ Stop() }] struct {
	once    sync.Once
	server  T
	err     error
	started bool
}

// Get starts the server on first use and returns it; a start failure fails
// the test (start's error names the command that installs what is missing).
func (s *Shared[T]) Get(tb testing.TB, start func() (T, error)) T {
	tb.Helper()
	s.once.Do(func() {
		s.server, s.err = start()
		s.started = s.err == nil
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.server
}

// Stop stops the server if it was started (call it from TestMain).
func (s *Shared[T]) Stop() {
	if s.started {
		s.server.Stop()
	}
}

// Eventually polls cond every 50ms until it holds or timeout passes, then
// fails with what it was waiting for and cond's last message.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	var msg string
	WaitFor(tb, timeout, 50*time.Millisecond, what, func() bool {
		var ok bool
		ok, msg = cond()
		return ok
	}, func() string { return msg })
}

// WaitFor polls cond every interval until it holds or timeout passes, then
// fails naming what it waited for (and detail's text, if given).
func WaitFor(tb testing.TB, timeout, interval time.Duration, what string, cond func() bool, detail ...func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("timed out after %v waiting for %s", timeout, what)
			for _, d := range detail {
				msg += ": " + d()
			}
			tb.Fatal(msg)
		}
		time.Sleep(interval)
	}
}
