package text

import "testing"

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"a\nb\r\n  c\t d", 0, "a b c d"},
		{"  ", 0, ""},
		{"abcdefghij", 8, "abcde..."},
		{"abcdefgh", 8, "abcdefgh"},
		{"abc def", 3, "abc def"},
	} {
		if got := OneLine(tc.in, tc.max); got != tc.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestTruncateAndOrNone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", "short"},
		{"0123456789abc", "0123456..."},
		{"012345é789abc", "012345..."}, // é is 2 bytes: never cut inside it
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, 10); got != tt.want {
			t.Errorf("Truncate(%q, 10) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if OrNone("") != "none" || OrNone("x") != "x" {
		t.Error("OrNone")
	}
}
