package assemble

import (
	"strings"
	"testing"
	"time"
)

// The claim lease is short against the visibility timeout, and a queue
// whose redrive would dead-letter a crashed worker's events before the claim
// expires is refused at start-up, naming the setting to change.
func TestLeaseCoversCrashesWithinTheRedrivePolicy(t *testing.T) {
	if l, err := Lease(30*time.Second, 5); err != nil || l != time.Minute {
		t.Fatalf("Lease(30s, 5) = %v, %v; want 1m", l, err)
	}
	if l, err := Lease(2*time.Second, 0); err != nil || l != 10*time.Second {
		t.Fatalf("Lease(2s, no redrive) = %v, %v; want 10s", l, err)
	}
	_, err := Lease(30*time.Second, 1)
	if err == nil || !strings.Contains(err.Error(), "maxReceiveCount 1") || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("Lease(30s, 1) = %v; want an error naming maxReceiveCount and the least value", err)
	}
}
