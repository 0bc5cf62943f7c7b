package cli

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// FitHelp makes the help of every command of root fit the width of its output (TermWidth:
// $COLUMNS, else the terminal's; piped help stays whole). prepare, if not nil, runs first on
// the command whose help is shown (kubectl tpe formats its Long texts then, not at start-up).
// The width is looked up only when help is shown.
func FitHelp(root *cobra.Command, prepare func(*cobra.Command)) {
	help := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if prepare != nil {
			prepare(c)
		}
		out := c.OutOrStdout()
		width := TermWidth(out)
		if width <= 0 {
			help(c, args)
			return
		}
		var buf bytes.Buffer
		c.SetOut(&buf)
		help(c, args)
		c.SetOut(out)
		_, _ = io.WriteString(out, wrapHelp(buf.String(), width))
	})
}

// section is a heading of cobra's help ("Examples:", "Global Flags:").
var section = regexp.MustCompile(`^[A-Z][A-Za-z ]*:$`)

// wrapHelp wraps a command's help to width: paragraphs at word boundaries, flag and command
// descriptions under their column, example comments as comments, and example commands with a
// backslash at the end of each broken line (they still run when pasted).
func wrapHelp(help string, width int) string {
	if width <= 0 {
		return help
	}
	lines := strings.Split(help, "\n")
	examples, usage := false, false
	for i, l := range lines {
		if section.MatchString(l) {
			examples, usage = l == "Examples:", l == "Usage:"
			continue
		}
		trimmed := strings.TrimLeft(l, " ")
		switch {
		case usage:
			lines[i] = wrapLine(l, width, 2, modeBreak)
		case !examples || trimmed == "":
			lines[i] = wrapLine(l, width, 0, modeBreak)
		case strings.HasPrefix(trimmed, "#"):
			prefix := l[:len(l)-len(trimmed)] + "# "
			body := strings.TrimLeft(strings.TrimPrefix(trimmed, "#"), " ")
			wrapped := strings.Split(wrapLine(body, width-len(prefix), 0, modeBreak), "\n")
			for k := range wrapped {
				wrapped[k] = prefix + wrapped[k]
			}
			lines[i] = strings.Join(wrapped, "\n")
		default:
			lines[i] = wrapCommand(l, width)
		}
	}
	return strings.Join(lines, "\n")
}
