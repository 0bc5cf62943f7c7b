package helmtpe

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// overWidth lists the lines of s wider than width (terminal columns; the output has no colour).
func overWidth(s string, width int) []string {
	var over []string
	for _, l := range strings.Split(s, "\n") {
		if utf8.RuneCountInString(l) > width {
			over = append(over, l)
		}
	}
	return over
}

// TestOutputFitsTheTerminal: with COLUMNS=80 every line of releases and plan fits 80 columns;
// piped (no terminal, no COLUMNS) and -o wide print the same whole lines, wider than 80.
func TestOutputFitsTheTerminal(t *testing.T) {
	for _, args := range [][]string{
		{"releases"},
		{"plan", "--from", "v7.1.2", "--to", "v7.3.1"},
		{"plan", "--from", "v7.1.2", "--to", "v7.2.2c", "--kube-version", "v1.22.0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Setenv("COLUMNS", "")
			piped, _, _ := run(t, nil, args...)
			if len(overWidth(piped, 80)) == 0 {
				t.Fatalf("piped output has no line over 80 columns: nothing to fit\n%s", piped)
			}
			t.Setenv("COLUMNS", "80")
			fitted, _, _ := run(t, nil, args...)
			if over := overWidth(fitted, 80); len(over) > 0 {
				t.Errorf("%d line(s) over 80 columns, e.g. %q\n%s", len(over), over[0], fitted)
			}
			wide, _, _ := run(t, nil, append(args, "-o", "wide")...)
			if wide != piped {
				t.Errorf("-o wide differs from the piped output:\n%s\nwant\n%s", wide, piped)
			}
		})
	}
}

// TestHelpFitsTheTerminal: with COLUMNS=80 the help of every command fits 80 columns; piped,
// the paragraphs stay whole (one line each).
func TestHelpFitsTheTerminal(t *testing.T) {
	help := func(t *testing.T, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
		root.SetOut(&out)
		root.SetArgs(append(args, "--help"))
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var paths [][]string
	walkTree(NewCmdRoot(genericiooptions.NewTestIOStreamsDiscard()), func(c *cobra.Command) {
		var p []string
		for a := c; a.HasParent(); a = a.Parent() {
			p = append([]string{a.Name()}, p...)
		}
		if c.IsAvailableCommand() || len(p) == 0 {
			paths = append(paths, p)
		}
	})
	for _, p := range paths {
		t.Run(strings.Join(append([]string{"helm tpe"}, p...), " "), func(t *testing.T) {
			t.Setenv("COLUMNS", "80")
			out := help(t, p...)
			if over := overWidth(out, 80); len(over) > 0 {
				t.Errorf("%d line(s) over 80 columns, e.g. %q", len(over), over[0])
			}
		})
	}
	t.Setenv("COLUMNS", "")
	if out := help(t, "plan"); len(overWidth(out, 200)) == 0 {
		t.Errorf("piped help was wrapped:\n%s", out)
	}
}
