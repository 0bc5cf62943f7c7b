package kubectltpe

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestLibraryKeysAreSpelled: an error of pkg/preflight names the flag by key (pkg/cmd/vocab);
// kubectl tpe spells it.
func TestLibraryKeysAreSpelled(t *testing.T) {
	var out, errOut bytes.Buffer
	root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"preflight", "--only", "tsl"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), `--only "tsl" matches no check: give a check id (see -o json)`) {
		t.Fatalf("err = %v", err)
	}
}
