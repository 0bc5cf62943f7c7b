package kubectltpe

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/thingpark-tools/kubectl-tpe/internal/fittest"
)

// TestPreflightFitsTheTerminal: with COLUMNS=80 every line of a preflight table (failed checks
// with long messages, their remediation) fits 80 columns; piped (no terminal, no COLUMNS) and
// -o wide print the same whole lines, wider than 80.
func TestPreflightFitsTheTerminal(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "good", "tpe.example.com", time.Now().Add(10*24*time.Hour))
	stdout := func(t *testing.T, args ...string) string {
		out, _, code, err := runRoot(t, "", args...)
		if code != 2 {
			t.Fatalf("exit %d, want 2 (a failed check): %v", code, err)
		}
		if !strings.Contains(out, "To fix:") || !strings.Contains(out, "tls.hostname") {
			t.Errorf("the output lost the remediation or a check ID:\n%s", out)
		}
		return out
	}
	fittest.Output(t, stdout, "preflight", "--only", "tls.*", "--tls-cert", cert, "--tls-key", key, "--hostname", "iot.example.org", "--color", "never")
}

// TestHelpFitsTheTerminal: with COLUMNS=80 the help of every command fits 80 columns; piped,
// the paragraphs stay whole (one line each).
func TestHelpFitsTheTerminal(t *testing.T) {
	fittest.Help(t, func(out io.Writer) *cobra.Command {
		return NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: out})
	}, "preflight")
}
