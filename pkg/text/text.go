// Package text holds the few helpers every package uses to put a value or a message in a line of
// text: fold a multi-line message (a Helm or API error, a command's output) to one line of a
// table, a log or a progress record, cut a quoted input short, say "none" for nothing.
package text

import (
	"strings"
	"unicode/utf8"
)

// OneLine folds s to one line (runs of white space, new lines included, become one space) and
// cuts it to at most limit bytes with "..." at the end; limit <= 0 does not cut.
func OneLine(s string, limit int) string {
	return Truncate(strings.Join(strings.Fields(s), " "), limit)
}

// Truncate cuts s to at most limit bytes, "..." at the end, never inside a UTF-8 character;
// limit <= 3 does not cut.
func Truncate(s string, limit int) string {
	if limit <= 3 || len(s) <= limit {
		return s
	}
	cut := limit - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// OrNone is s, or "none" when s is empty (a list joined, a name that may be missing).
func OrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
