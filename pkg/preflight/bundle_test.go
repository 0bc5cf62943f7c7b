package preflight

import (
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/bundle"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestBundleReplacesRepositoryChecks(t *testing.T) {
	tests := []struct {
		name   string
		bundle string // release of the bundle ("" = a bundle that did not verify)
		target string
		probe  bool
		want   map[string]check.Status
		msg    string
	}{
		{"verifies and holds the target", "v7.3.1", "v7.3.1", false,
			map[string]check.Status{"machine.bundle": check.Pass, "images.pull": check.Manual}, "releases v7.3.1, 2 images"},
		{"lacks the target", "v7.2.2c", "v7.3.1", false,
			map[string]check.Status{"machine.bundle": check.Fail}, "does not hold the target v7.3.1"},
		{"does not verify", "", "v7.3.1", false,
			map[string]check.Status{"machine.bundle": check.Fail}, "does not match its checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t, tt.target)
			cfg.Select = Selection{Only: []string{"Deployment machine", "images"}, Skip: []string{"machine.apiserver"}}
			if tt.bundle != "" {
				cfg.Bundle = bundletest.New(t, "site.tar.gz", []string{"reg/a:1", "reg/b:2"}, tt.bundle)
			} else {
				cfg.BundleErr = &bundle.Error{Path: "site.tar.gz", Msg: "charts/x.tgz does not match its checksum"}
			}
			if NeedsCluster(cfg) {
				t.Fatal("checking a bundle without --probe needs no cluster")
			}
			rep, err := Run(t.Context(), nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for id, st := range tt.want {
				c, ok := rep.Find(id)
				if !ok || c.Status != st {
					t.Errorf("%s = %+v (found %v), want %s", id, c, ok, st)
				}
			}
			for _, id := range []string{"machine.chart-repository", "machine.config-repository"} {
				if _, ok := rep.Find(id); ok {
					t.Errorf("%s reported with a bundle", id)
				}
			}
			if c, _ := rep.Find("machine.bundle"); !strings.Contains(c.Message, tt.msg) {
				t.Errorf("machine.bundle says %q, want %q", c.Message, tt.msg)
			}
		})
	}
	cfg := baseConfig(t, "v7.3.1")
	cfg.Bundle, cfg.Probe = bundletest.New(t, "site.tar.gz", []string{"reg/a:1", "reg/b:2"}, "v7.3.1"), true
	cfg.Select = Selection{Only: []string{"images.pull"}}
	if !NeedsCluster(cfg) {
		t.Error("--bundle --probe pulls the images from the cluster: it needs one")
	}
}
