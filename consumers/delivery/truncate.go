package delivery

import "unicode/utf8"

// Truncate shortens s to at most n bytes, ending in "..." when it cut, and
// never splits a UTF-8 sequence: a dead-letter reason goes into SQS message
// attributes and Lambda error payloads, whose string values must be valid
// Unicode. Reasons are cut to MaxReasonBytes.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "..."
	if n <= len(ellipsis) {
		return ellipsis[:max(n, 0)]
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// MaxReasonBytes bounds a failure reason carried in a message attribute
// (AttrFailureReason, ERROR_MESSAGE) or an error payload.
const MaxReasonBytes = 1024
