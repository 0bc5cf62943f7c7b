package vocab

import (
	"bytes"
	"os"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
)

func TestFill(t *testing.T) {
	tests := []struct{ in, kubectl, helm string }{
		{"run `{cmd:rollback}` with {flag:resume}", "run `helm tpe rollback` with --resume", "run `helm tpe rollback` with --resume"},
		{"check {flag:kubeconfig}/{flag:context}", "check --kubeconfig/--context", "check --kubeconfig/--kube-context"},
		// Braces that are no key, and an unknown key, are left as they are.
		{"{tag} {ref} {\"a\":1} {cmd:nope}", "{tag} {ref} {\"a\":1} {cmd:nope}", "{tag} {ref} {\"a\":1} {cmd:nope}"},
		{"nothing to fill", "nothing to fill", "nothing to fill"},
	}
	for _, tt := range tests {
		if got := Kubectl.Fill(tt.in); got != tt.kubectl {
			t.Errorf("Kubectl.Fill(%q) = %q, want %q", tt.in, got, tt.kubectl)
		}
		if got := Helm.Fill(tt.in); got != tt.helm {
			t.Errorf("Helm.Fill(%q) = %q, want %q", tt.in, got, tt.helm)
		}
	}
	if got := Keys("a {cmd:plan} b {flag:to} {tag}"); len(got) != 2 || got[0] != "cmd:plan" || got[1] != "flag:to" {
		t.Errorf("Keys = %v", got)
	}
}

// TestWriterBelowTheRedactor: the roots put the vocabulary's Writer below the redacting one, so
// that a command still finds the Redactor of its stream (redact.Of) and a terminal stays one.
func TestWriterBelowTheRedactor(t *testing.T) {
	var buf bytes.Buffer
	red := redact.New()
	w := red.Writer(Helm.Writer(&buf))
	redact.Of(w).Add("s3cr3t")
	if _, err := w.Write([]byte("use {cmd:upgrade} {flag:to} v7.3.1, key s3cr3t\n")); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "use helm tpe upgrade --to v7.3.1, key ****\n" {
		t.Errorf("got %q", got)
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fd := red.Writer(Kubectl.Writer(f)).(interface{ Fd() uintptr }).Fd(); fd != f.Fd() {
		t.Errorf("Fd = %d, want the file's %d", fd, f.Fd())
	}
	if fd := Kubectl.Writer(&buf).(interface{ Fd() uintptr }).Fd(); fd != ^uintptr(0) {
		t.Errorf("Fd of a buffer = %d", fd)
	}
}
