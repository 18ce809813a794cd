package logging_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	"github.com/eventplane/eventplane/consumers/logging"
)

// A logr V(3) line (controller-runtime's reflector detail) is written with
// level DEBUG, not slog's "DEBUG-1"-style names, and an unknown level is
// refused naming it.
func TestLinesCarryOneOfFourLevels(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, "debug")
	if err != nil {
		t.Fatal(err)
	}
	logr.FromSlogHandler(log.Handler()).V(3).Info("detail")
	var l map[string]any
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil || l["level"] != "DEBUG" || l["msg"] != "detail" {
		t.Fatalf("line %s (%v), want level DEBUG", buf.Bytes(), err)
	}
	if _, err := logging.New(&buf, "loud"); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Fatalf("level loud: %v, want a refusal naming it", err)
	}
}
