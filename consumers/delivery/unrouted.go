package delivery

import "fmt"

// Unrouted says what happens to an event that matches no route.
type Unrouted string

// Unrouted policies.
const (
	// UnroutedAck deletes every event no route matches (counted only).
	UnroutedAck Unrouted = "ack"
	// UnroutedDeadLetter dead-letters every event no route matches.
	UnroutedDeadLetter Unrouted = "dead-letter"
	// UnroutedMalformed (the default) dead-letters the unrouted events the
	// platform could not understand — bodies of no known shape, SNS
	// notifications whose Message is not JSON (event.Defect) — with a
	// reason naming the defect, and deletes well-formed events no route
	// wants (a consumer may take only part of a topic's fan-out).
	UnroutedMalformed Unrouted = "dead-letter-malformed"
)

// Check reports an unknown policy.
func (u Unrouted) Check() error {
	switch u {
	case UnroutedAck, UnroutedDeadLetter, UnroutedMalformed:
		return nil
	}
	return fmt.Errorf("unrouted policy %q: want %q, %q or %q", u, UnroutedMalformed, UnroutedDeadLetter, UnroutedAck)
}
