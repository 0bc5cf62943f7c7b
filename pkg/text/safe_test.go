package text

import "testing"

func TestSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, ünïcode ✓\n\tnext", "plain text, ünïcode ✓\n\tnext"},
		{"\x1b[2J\x1b[Hcleared", `\x1b[2J\x1b[Hcleared`},
		{"\x1b]0;owned\x07title", `\x1b]0;owned\x07title`},
		{"over\rwrite", `over\rwrite`},
		{"bell\x07 del\x7f nul\x00", `bell\x07 del\x7f nul\x00`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"line\u2028sep", `line\u2028sep`},
	} {
		if got := Safe(tc.in); got != tc.want {
			t.Errorf("Safe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStripANSI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"state: \x1b[31mABORTED\x1b[0m", "state: ABORTED"},
		{"\x1b[1;32mPROCESSED\x1b[m", "PROCESSED"},
		{"\x1b]0;title\x07x\x1b]8;;http://h\x1b\\link", "xlink"},
		{"\x1b(Bplain", "plain"},
		{"no escapes", "no escapes"},
	} {
		if got := StripANSI(tc.in); got != tc.want {
			t.Errorf("StripANSI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
