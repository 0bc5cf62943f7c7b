package kube

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// The library's message names no flag; WithFlags words it with the command's.
func TestKubeconfigErrorWithFlags(t *testing.T) {
	err := ConfigError(clientcmd.ErrEmptyConfig)
	var ke *KubeconfigError
	if !errors.As(err, &ke) || !ke.Empty {
		t.Fatalf("ConfigError(empty) = %#v, want an empty *KubeconfigError", err)
	}
	if strings.Contains(err.Error(), "--") {
		t.Errorf("library message names a flag: %q", err)
	}
	worded := ke.WithFlags("--kubeconfig", "--kube-context")
	if !strings.Contains(worded.Error(), "pass --kubeconfig FILE") || !strings.Contains(worded.Error(), "use --kube-context to pick a context") {
		t.Errorf("worded = %q", worded)
	}
	if !errors.Is(worded, clientcmd.ErrEmptyConfig) {
		t.Errorf("worded lost the cause: %v", worded)
	}
	broken := &KubeconfigError{Err: errors.New("yaml: bad")}
	if got := broken.WithFlags("--kubeconfig", "--context").Error(); got != "cannot load the kubeconfig (check --kubeconfig, KUBECONFIG and --context): yaml: bad" {
		t.Errorf("worded = %q", got)
	}
}
