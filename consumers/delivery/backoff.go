package delivery

import (
	"math/rand/v2"
	"time"
)

// Backoff computes retry delays: exponential in the receive count, capped,
// with full jitter (a uniform draw between Base and the exponential value).
type Backoff struct {
	// Base is the delay after the first failed attempt (default 1s).
	Base time.Duration
	// Max caps the delay (default 15m; SQS allows up to 12h).
	Max time.Duration
}

const maxVisibility = 12 * time.Hour

// Delay returns the delay before attempt receiveCount+1. It is at least one
// second (SQS visibility has one-second resolution: zero would redeliver at
// once and make a hot loop).
func (b Backoff) Delay(receiveCount int) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = time.Second
	}
	if max <= 0 {
		max = 15 * time.Minute
	}
	if max > maxVisibility {
		max = maxVisibility
	}
	ceiling := base
	for i := 1; i < receiveCount && ceiling < max; i++ {
		ceiling *= 2
	}
	if ceiling > max {
		ceiling = max
	}
	d := base
	if ceiling > base {
		d += rand.N(ceiling - base + 1) // #nosec G404 -- retry jitter, not a secret: math/rand is right
	}
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second)
}
