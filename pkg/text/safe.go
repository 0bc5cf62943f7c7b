package text

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe returns s ready to be written to a terminal when it comes from outside (a post-upgrade
// dump, a certificate field, a cluster object or event, a chart value): every character a
// terminal would act on is written as a Go escape instead ("\x1b", "\r", "\u202e"), so that text
// cannot clear the screen, set the window title, move the cursor or reverse what follows. Those
// are the C0 control characters but new line and tab, DEL, the C1 controls, the Unicode line and
// paragraph separators and bidirectional controls, and bytes that are not UTF-8. JSON and YAML
// need none of this: their encoders escape control characters.
func Safe(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			switch {
			case r == '\r':
				b.WriteString(`\r`)
			case r < 0x80:
				fmt.Fprintf(&b, `\x%02x`, r)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			// Slow path for anything but printable ASCII, new lines and tabs.
			for _, r := range s {
				if r == utf8.RuneError || unsafeRune(r) {
					return false
				}
			}
			return utf8.ValidString(s)
		}
	}
	return true
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}

// ansi matches the escape sequences terminals interpret: CSI (colours, cursor moves), OSC (window
// title, hyperlinks) ended by BEL or ST, and the other escapes (character sets, keypad modes).
var ansi = regexp.MustCompile("\x1b\\[[0-?]*[ -/]*[@-~]|\x1b\\][^\x07\x1b]*(?:\x07|\x1b\\\\)|\x1b[ -/]*[0-~]|\u009b[0-?]*[ -/]*[@-~]")

// StripANSI removes terminal escape sequences from s: the colours a terminal's `kubectl exec -it`
// adds to a command's output are not part of what it says.
func StripANSI(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b") {
		return s
	}
	return ansi.ReplaceAllString(s, "")
}
