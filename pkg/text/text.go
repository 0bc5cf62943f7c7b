// Package text holds the one helper every package uses to show a multi-line message (a Helm or
// API error, a command's output) on one line of a table, a log or a progress record.
package text

import "strings"

// OneLine folds s to one line (runs of white space, new lines included, become one space) and
// cuts it to at most limit bytes with "..." at the end; limit <= 0 does not cut.
func OneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if limit > 3 && len(s) > limit {
		s = s[:limit-3] + "..."
	}
	return s
}
