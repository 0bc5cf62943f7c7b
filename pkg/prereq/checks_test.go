package prereq

import (
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

// TestCheckKubernetesComparesMajorMinor: the version is compared as major.minor, so a newer major
// ("v2.25.0") is newer than the range, not older (it was "older than 1.24–1.27").
func TestCheckKubernetesComparesMajorMinor(t *testing.T) {
	rel := manifest.Release{Name: "7.3.1", Kubernetes: manifest.KubeRange{Min: "1.24", Max: "1.27"}}
	for _, tc := range []struct {
		git    string
		strict bool
		want   check.Status
	}{
		{"v1.23.4", false, check.Fail},
		{"v1.24.0", false, check.Pass},
		{"v1.27.9", false, check.Pass},
		{"v1.28.1", false, check.Warn},
		{"v2.25.0", false, check.Warn},
		{"v2.25.0", true, check.Fail},
		{"v2.1.0", false, check.Warn},
	} {
		c := CheckKubernetes(rel, true, ServerVersion{GitVersion: tc.git}, tc.strict)
		if c.Status != tc.want {
			t.Errorf("%s strict=%v: %s (%s), want %s", tc.git, tc.strict, c.Status, c.Message, tc.want)
		}
	}
}
