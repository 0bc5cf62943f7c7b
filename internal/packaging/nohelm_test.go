//go:build e2e

package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlTPELinksNoHelm: kubectl-tpe must never link helm (our dependency rule; .golangci.yml
// depguard checks the imports): no helm.sh package in its dependencies, no helm.sh symbol and no
// helm.sh module in a binary built from this checkout. helm-tpe is the control: the same checks
// must find helm there, or they prove nothing. It runs the go command (list, build, tool nm,
// version), so it is behind the build tag e2e with the other tests that start processes:
// `make test-packaging` runs it.
func TestKubectlTPELinksNoHelm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		pkg      string
		wantHelm bool
	}{
		{"./cmd/kubectl-tpe", false},
		{"./cmd/helm-tpe", true},
	} {
		t.Run(tt.pkg, func(t *testing.T) {
			deps := goOut(t, "list", "-deps", tt.pkg)
			bin := filepath.Join(dir, filepath.Base(tt.pkg))
			goOut(t, "build", "-trimpath", "-o", bin, tt.pkg)
			syms := goOut(t, "tool", "nm", bin)
			mods := goOut(t, "version", "-m", bin)
			for what, out := range map[string]string{"go list -deps": deps, "go tool nm": syms, "go version -m": mods} {
				n := strings.Count(out, "helm.sh/")
				if tt.wantHelm && n == 0 {
					t.Errorf("%s %s finds no helm.sh: the check is broken", what, tt.pkg)
				}
				if !tt.wantHelm && n > 0 {
					t.Errorf("%s %s: %d helm.sh references; kubectl-tpe must not link helm", what, tt.pkg, n)
				}
			}
		})
	}
}

func goOut(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}
