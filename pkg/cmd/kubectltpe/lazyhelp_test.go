package kubectltpe

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"
)

// TestHelpIsFormattedOnlyWhenShown: building the tree (every run) formats no Long text; --help
// shows it formatted, as templates.LongDesc does.
func TestHelpIsFormattedOnlyWhenShown(t *testing.T) {
	var out bytes.Buffer
	root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	pf, _, err := root.Find([]string{"preflight"})
	if err != nil {
		t.Fatal(err)
	}
	if pf.Annotations[formattedAnnotation] != "" || pf.Long != preflightLong {
		t.Fatal("the tree formatted preflight's help while being built")
	}
	root.SetOut(&out)
	root.SetArgs([]string{"preflight", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(templates.LongDesc(preflightLong))
	if !strings.Contains(out.String(), want) {
		t.Errorf("preflight --help does not show the formatted text:\n%s", out.String())
	}
	if strings.Contains(out.String(), "\n\t") {
		t.Errorf("preflight --help shows raw indentation:\n%s", out.String())
	}
}
