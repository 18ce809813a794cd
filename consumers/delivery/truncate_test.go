package delivery

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A long reason in a language other than English is cut where a character
// starts: SQS rejects message attributes that are not valid Unicode, so a cut
// inside "é" would fail the dead-letter send itself.
func TestTruncateKeepsUTF8AndBound(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefg..."},
		{"ééééé", 8, "éé..."}, // 10 bytes; "ééé" would split at byte 5
		{"abcdef", 2, ".."},
	} {
		got := Truncate(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("é", 600)
	if got := Truncate(long, MaxReasonBytes); !utf8.ValidString(got) || len(got) > MaxReasonBytes || !strings.HasSuffix(got, "...") {
		t.Fatalf("Truncate of 1200 bytes: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}
