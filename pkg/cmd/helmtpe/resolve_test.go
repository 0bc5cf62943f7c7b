package helmtpe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What a release name resolved to is said once, in one line, in the text output and in the JSON;
// an untagged release points at its commit; unknown names list every accepted release.
func TestReleaseResolutionNotes(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "VERSIONS")
	if err := os.WriteFile(other, []byte("THINGPARK_DATA_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_DATA_VERSION=9.0.0\nTHINGPARK_APPLICATION_CONTROLLERS_VERSION=9.0.0\nTHINGPARK_ENTERPRISE_VERSION=9.0.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    []string
		once    string
		wantErr string
	}{
		{"alias in text", []string{"plan", "--from", "v1.1.1", "--to", "v7.1.3a"},
			[]string{"Note: v1.1.1 is an alias of v7.1.1 (the vendor renamed it)"}, "v1.1.1 is an alias", ""},
		{"alias and untagged in JSON", []string{"plan", "--from", "V7.3.1", "--to", "v8.0.0", "-o", "json"},
			[]string{`"notes": [`, "v8.0.0 has no tag in the vendor's repository: its files are read at commit 1b4e0ed53594"}, "v8.0.0 has no tag", ""},
		{"target alias", []string{"plan", "--from", "v7.3.1", "--to", "v7.3.4c", "-o", "json"},
			[]string{"v7.3.4c is an alias of v7.3.6 (the vendor renamed it)"}, "v7.3.4c is an alias", ""},
		{"untagged fix points at the commit", []string{"plan", "--from", "v7.2.2c", "--to", "v7.3.0", "-o", "json"},
			[]string{"commit f6efc6fb2b90 (v7.3.0 has no tag)"}, "v7.3.0 has no tag in the vendor's repository", ""},
		{"unknown --from lists untagged releases", []string{"plan", "--from", "v9.9.9", "--to", "v8.0.0"}, nil, "",
			`--from: unknown TPE release "v9.9.9": known releases are`},
		{"manifest with other charts", []string{"manifest", "v7.3.1", "--manifest", other},
			[]string{"Note:       " + other + " names other charts than the known v7.3.1: the file's are used"}, "names other charts", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, nil, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "v7.3.0") || !strings.Contains(err.Error(), "v7.2.1") {
					t.Fatalf("err = %v, want %q listing the untagged releases", err, tt.wantErr)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "tag v7.3.0") || strings.Contains(out, "tag v8.0.0") {
				t.Errorf("output points at a tag that does not exist:\n%s", out)
			}
			if n := strings.Count(out, tt.once); n != 1 {
				t.Errorf("%q said %d times:\n%s", tt.once, n, out)
			}
		})
	}
}

// The vendor's legacy upgrade from 1.0.x blocks the hop, whatever is acknowledged, and says what
// the procedure entails.
func TestPlanLegacy11Blocks(t *testing.T) {
	out, _, err := run(t, nil, "plan", "--from", "v1.0.2", "--to", "v1.1.0")
	if err == nil {
		t.Fatalf("plan passed:\n%s", out)
	}
	for _, w := range []string{"FAIL     admin.1.legacy-1.1", "configs/legacy", "uninstall", "kubectl delete namespace thingpark-enterprise", "restore", "(tag v1.1.0)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
