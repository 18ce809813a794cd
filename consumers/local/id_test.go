package local

import (
	"regexp"
	"testing"
)

// Event and message ids keep their 8-4-4-4-12 hex form, and differ.
func TestNewIDForm(t *testing.T) {
	form := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !form.MatchString(id) {
			t.Fatalf("id %q is not 8-4-4-4-12 hex", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}
