package helmtpe

import (
	"strings"
	"testing"
)

// TestLibraryKeysAreSpelled: the library names our commands and flags by key (pkg/cmd/vocab);
// what helm tpe prints, as a table or as JSON, and its errors spell them.
func TestLibraryKeysAreSpelled(t *testing.T) {
	noKubeconfig(t)
	for _, o := range []string{"table", "json", "yaml"} {
		// A downgrade: the plan's remediation names the rollback command and the target flag.
		out, stderr, err := run(t, nil, "plan", "--from", "v7.3.1", "--to", "v7.2.2c", "-o", o)
		if err == nil {
			t.Fatalf("-o %s: a downgrade plan exits 0", o)
		}
		if all := out + stderr; strings.Contains(all, "{cmd:") || strings.Contains(all, "{flag:") || !strings.Contains(out, "helm tpe rollback") {
			t.Errorf("-o %s: a key is left, or the rollback command is not named:\n%s", o, all)
		}
	}
	// A skipped check of the library names -f.
	out, _, _ := run(t, nil, "plan", "--from", "v7.2.2c", "--to", "v7.3.1")
	if strings.Contains(out, "{flag:") || !strings.Contains(out, "no values file given (-f)") {
		t.Errorf("the values check does not name -f:\n%s", out)
	}
}
