package delivery

import (
	"errors"
	"time"
)

// retryAfterError asks for a retry at a known time, for a reason that says
// nothing about the sink's health.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as a retry to make after d: the message comes back
// after d (its visibility timeout), not after the backoff delay, and the
// route's breaker does not count it as a failure. An idempotency key held by
// another (perhaps crashed) worker is such a case: retrying before its lease
// ends only burns receive counts.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

// RetryDelay returns the delay a RetryAfter error asks for.
func RetryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}
