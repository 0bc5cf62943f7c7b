// Package fittest checks that output and help fit a terminal's width (cli.Fit, cli.FitHelp) in
// the tests of both command trees.
package fittest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// Width is the terminal width the tests fit to.
const Width = 80

// Over lists the lines of s wider than width columns (the output has no colour).
func Over(s string, width int) []string {
	var over []string
	for _, l := range strings.Split(s, "\n") {
		if utf8.RuneCountInString(l) > width {
			over = append(over, l)
		}
	}
	return over
}

// Output checks the stdout of a command (run returns it for args): with COLUMNS=80 every line
// fits 80 columns; piped (no terminal, no COLUMNS) some line is wider (so that the test can
// fail), and -o wide prints exactly the piped output.
func Output(t *testing.T, run func(t *testing.T, args ...string) string, args ...string) {
	t.Helper()
	t.Setenv("COLUMNS", "")
	piped := run(t, args...)
	if len(Over(piped, Width)) == 0 {
		t.Fatalf("the piped output has no line over %d columns: nothing to fit\n%s", Width, piped)
	}
	t.Setenv("COLUMNS", "80")
	if fitted := run(t, args...); len(Over(fitted, Width)) > 0 {
		over := Over(fitted, Width)
		t.Errorf("%d line(s) over %d columns, e.g. %q\n%s", len(over), Width, over[0], fitted)
	}
	if wide := run(t, append(args, "-o", "wide")...); wide != piped {
		t.Errorf("-o wide differs from the piped output:\n%s\nwant\n%s", wide, piped)
	}
}

// Help checks the help of every command of the tree newRoot builds (writing to out): with
// COLUMNS=80 every line fits 80 columns; piped, the help of whole (args) keeps a line wider
// than 200 columns (its paragraphs are not wrapped).
func Help(t *testing.T, newRoot func(out io.Writer) *cobra.Command, whole ...string) {
	t.Helper()
	help := func(t *testing.T, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		root := newRoot(&out)
		root.SetOut(&out)
		root.SetArgs(append(args, "--help"))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var paths [][]string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		var p []string
		for a := c; a.HasParent(); a = a.Parent() {
			p = append([]string{a.Name()}, p...)
		}
		if c.IsAvailableCommand() || len(p) == 0 {
			paths = append(paths, p)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(io.Discard))
	if len(paths) < 2 {
		t.Fatalf("the tree has %d command(s)", len(paths))
	}
	for _, p := range paths {
		t.Run(strings.Join(append([]string{"root"}, p...), " "), func(t *testing.T) {
			t.Setenv("COLUMNS", "80")
			if over := Over(help(t, p...), Width); len(over) > 0 {
				t.Errorf("%d line(s) over %d columns, e.g. %q", len(over), Width, over[0])
			}
		})
	}
	t.Setenv("COLUMNS", "")
	if out := help(t, whole...); len(Over(out, 200)) == 0 {
		t.Errorf("piped help was wrapped:\n%s", out)
	}
}
