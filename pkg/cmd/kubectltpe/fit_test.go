package kubectltpe

import (
	"bytes"
	"strings"
	"testing"
	"time"
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

// TestPreflightFitsTheTerminal: with COLUMNS=80 every line of a preflight table (failed checks
// with long messages, their remediation) fits 80 columns; piped (no terminal, no COLUMNS) and
// -o wide print the same whole lines, wider than 80.
func TestPreflightFitsTheTerminal(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "good", "tpe.example.com", time.Now().Add(10*24*time.Hour))
	args := []string{"preflight", "--only", "tls.*", "--tls-cert", cert, "--tls-key", key, "--hostname", "iot.example.org", "--color", "never"}
	t.Setenv("COLUMNS", "")
	piped, _, code, _ := runRoot(t, "", args...)
	if code != 2 || len(overWidth(piped, 80)) == 0 {
		t.Fatalf("exit %d; the piped output has no line over 80 columns: nothing to fit\n%s", code, piped)
	}
	t.Setenv("COLUMNS", "80")
	fitted, _, _, _ := runRoot(t, "", args...)
	if over := overWidth(fitted, 80); len(over) > 0 {
		t.Errorf("%d line(s) over 80 columns, e.g. %q\n%s", len(over), over[0], fitted)
	}
	if !strings.Contains(fitted, "To fix:") || !strings.Contains(fitted, "tls.hostname") {
		t.Errorf("fitted output lost the remediation or a check ID:\n%s", fitted)
	}
	wide, _, _, _ := runRoot(t, "", append(args, "-o", "wide")...)
	if wide != piped {
		t.Errorf("-o wide differs from the piped output:\n%s\nwant\n%s", wide, piped)
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
		t.Run(strings.Join(append([]string{DisplayName}, p...), " "), func(t *testing.T) {
			t.Setenv("COLUMNS", "80")
			out := help(t, p...)
			if over := overWidth(out, 80); len(over) > 0 {
				t.Errorf("%d line(s) over 80 columns, e.g. %q", len(over), over[0])
			}
		})
	}
	t.Setenv("COLUMNS", "")
	if out := help(t, "preflight"); len(overWidth(out, 200)) == 0 {
		t.Errorf("piped help was wrapped:\n%s", out)
	}
}
