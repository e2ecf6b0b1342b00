package alert

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer title", 10, "a longe…"}, // the ellipsis is three bytes
		{"a longer title", 11, "a longer…"},
		{"a longer title", 12, "a longer…"}, // the space before the cut is dropped
		{"rôle partagé", 5, "r…"},           // "ô" is two bytes: no room for it
		{"役割役割", 7, "役…"},                   // never split a rune
		{"役割役割", 2, ""},                     // no room for a rune or an ellipsis
		{"abcdef", 2, "ab"},                 // no room for the ellipsis
		{"abcdef", 0, ""},
	}
	for _, tc := range tests {
		got := truncate(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		if len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q: %d bytes or invalid UTF-8", tc.s, tc.n, got, len(got))
		}
	}
}

func TestShortenLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"web-api:42", 20, "web-api:42"},
		{"a-very-long-family-name:1234", 20, "a-very-long-…:1234"},
		{"a-very-long-role-name-without-revision", 20, "a-very-long-role-…"},
		{"family:12345678901234", 12, "family:12…"}, // no room to keep the revision whole
	}
	for _, tc := range tests {
		if got := shortenLabel(tc.s, tc.n); got != tc.want {
			t.Errorf("shortenLabel(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain title", "plain title"},
		{" line one\nline two\r\n", "line one line two"},
		{"tab\tand\x00nul and\u2028separator", "tab and nul and separator"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tc := range tests {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// writeString and escLen agree with encoding/json on every kind of byte.
func TestWriteString(t *testing.T) {
	t.Parallel()
	tests := []string{
		"", "plain", `quote " and \ backslash`, "line\nbreak\r\ttab\b\f", "\x00\x01\x1f\x7f",
		"<html> & more", "rôle 役割", "sep \u2028 \u2029", "bad \xff\xfe byte", "cut \xe5\xbd", "emoji 🚨",
	}
	for _, s := range tests {
		want, err := marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		writeString(&b, s)
		if b.String() != string(want) {
			t.Errorf("writeString(%q) = %s, want %s", s, b.String(), want)
		}
		if n := escLen(s); n != len(want) {
			t.Errorf("escLen(%q) = %d, want %d", s, n, len(want))
		}
	}
}
