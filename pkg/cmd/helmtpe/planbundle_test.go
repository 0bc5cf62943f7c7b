package helmtpe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
)

// TestPlanBundleLacksPathWithoutValues: a bundle that lacks the charts of the path fails the plan
// with or without values files (without -f it said "Plan: OK", exit 0).
func TestPlanBundleLacksPathWithoutValues(t *testing.T) {
	noKubeconfig(t)
	file := filepath.Join(t.TempDir(), "site.tar.gz")
	if err := os.WriteFile(file, bundletest.Bytes(t, nil, "v7.3.1"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, nil, "plan", "--from", "v7.3.1", "--to", "v8.0.0", "--bundle", file)
	if cli.ExitCode(err) != cli.ExitFailed || !strings.Contains(out, "lacks") || strings.Contains(out, "Plan: OK") {
		t.Errorf("exit %d (%v), want 2 and the bundle lacking the path:\n%s\n%s", cli.ExitCode(err), err, out, stderr)
	}
}
