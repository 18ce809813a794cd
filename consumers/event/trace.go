package event

import "strings"

// traceFromAttributes takes trace context from message attributes: a valid
// W3C traceparent attribute wins over the X-Ray AWSTraceHeader system
// attribute. Invalid values are discarded, as W3C Trace Context prescribes.
func traceFromAttributes(env *envelope, system, user map[string]string) {
	if tp, ok := user["traceparent"]; ok && validTraceparent(tp) {
		env.traceparent = tp
		env.tracestate = user["tracestate"]
		return
	}
	if x, ok := system["AWSTraceHeader"]; ok {
		if tp, ok := XRayToTraceparent(x); ok {
			env.traceparent, env.tracestate = tp, ""
		}
	}
}

// XRayToTraceparent converts an X-Ray trace header
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1)
// into a W3C traceparent. It reports false when the header has no valid root
// or parent.
func XRayToTraceparent(h string) (string, bool) {
	var root, parent string
	sampled := "00"
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Parent":
			parent = v
		case "Sampled":
			if v == "1" {
				sampled = "01"
			}
		}
	}
	// Root = "1-" 8 hex digits (epoch) "-" 24 hex digits.
	if len(root) != 35 || root[:2] != "1-" || root[10] != '-' {
		return "", false
	}
	traceID := root[2:10] + root[11:]
	if !isHex(traceID) || allZero(traceID) || len(parent) != 16 || !isHex(parent) || allZero(parent) {
		return "", false
	}
	return "00-" + traceID + "-" + parent + "-" + sampled, true
}

// validTraceparent checks the version-00 traceparent format.
func validTraceparent(s string) bool {
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	version, traceID, parent, flags := s[:2], s[3:35], s[36:52], s[53:]
	return isHex(version) && version != "ff" && isHex(traceID) && !allZero(traceID) &&
		isHex(parent) && !allZero(parent) && isHex(flags)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
