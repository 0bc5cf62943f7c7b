package helmtpe

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/internal/fittest"
)

// TestOutputFitsTheTerminal: with COLUMNS=80 every line of releases and plan fits 80 columns;
// piped (no terminal, no COLUMNS) and -o wide print the same whole lines, wider than 80.
func TestOutputFitsTheTerminal(t *testing.T) {
	stdout := func(t *testing.T, args ...string) string {
		out, _, _ := run(t, nil, args...)
		return out
	}
	for _, args := range [][]string{
		{"releases"},
		{"plan", "--from", "v7.1.2", "--to", "v7.3.1"},
		{"plan", "--from", "v7.1.2", "--to", "v7.2.2c", "--kube-version", "v1.22.0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) { fittest.Output(t, stdout, args...) })
	}
}

// TestHelpFitsTheTerminal: with COLUMNS=80 the help of every command fits 80 columns; piped,
// the paragraphs stay whole (one line each).
func TestHelpFitsTheTerminal(t *testing.T) {
	fittest.Help(t, func(out io.Writer) *cobra.Command {
		return NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out})
	}, "plan")
}
