package framework

import (
	"io"
	"testing"
)

// HelmTPEStdin is HelmTPE with stdin (a password given with --password-stdin).
func (e *Env) HelmTPEStdin(t testing.TB, kubeconfig string, extraEnv []string, stdin io.Reader, args ...string) Result {
	t.Helper()
	return e.Run(t, append(e.baseEnv(kubeconfig), extraEnv...), stdin, e.HelmTPEBin, args...)
}
