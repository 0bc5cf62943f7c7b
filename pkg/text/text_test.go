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
