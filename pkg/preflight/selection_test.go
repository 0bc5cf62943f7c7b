package preflight

import (
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
)

func TestSelection(t *testing.T) {
	tests := []struct {
		name       string
		sel        Selection
		networkTst bool
		// want are ids that must be reported, wantNot ids that must not.
		want, wantNot []string
		// cluster is what NeedsCluster must say.
		cluster bool
	}{
		{name: "everything", sel: Selection{}, want: []string{"kubernetes.version", "tls", "machine.apiserver", "backup.config"}, cluster: true},
		{name: "category TLS", sel: Selection{Only: []string{"tls"}}, want: []string{"tls"}, wantNot: []string{"kubernetes.version", "backup.config"}},
		{name: "glob tls.* keeps the bare tls check", sel: Selection{Only: []string{"tls.*"}}, want: []string{"tls"}, wantNot: []string{"machine.apiserver"}},
		{name: "category in any spelling", sel: Selection{Only: []string{"Deployment-Machine"}}, want: []string{"machine.apiserver", "machine.chart-repository"}, cluster: true},
		{name: "repositories only need no cluster", sel: Selection{Only: []string{"machine.*-repository"}}, want: []string{"machine.chart-repository", "machine.config-repository"}, wantNot: []string{"machine.apiserver"}},
		{name: "offline trio", sel: Selection{Only: []string{"tls", "backup", "values"}}, want: []string{"tls", "backup.config"}, wantNot: []string{"nodes.count"}},
		{name: "skip", sel: Selection{Skip: []string{"rbac", "firewall-checklist"}}, want: []string{"kubernetes.version"}, wantNot: []string{"rbac.admin", "rbac.operator", "network.outbound.smtp"}, cluster: true},
		{name: "only and skip", sel: Selection{Only: []string{"storage.*"}, Skip: []string{"storage.expansion"}}, want: []string{"storage.classes"}, wantNot: []string{"storage.expansion", "nodes.count"}, cluster: true},
		{name: "one id", sel: Selection{Only: []string{"kubernetes.version"}}, want: []string{"kubernetes.version"}, wantNot: []string{"machine.apiserver"}, cluster: true},
		{name: "inter-zone manual item needs no cluster", sel: Selection{Only: []string{"inter-zone-network"}}, want: []string{"network.inter-zone"}},
		{name: "inter-zone test needs the cluster", sel: Selection{Only: []string{"network.inter-zone"}}, networkTst: true, cluster: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.sel.Validate(); err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(t, "v7.3.1")
			cfg.Select = tt.sel
			cfg.NetworkTest.Enabled = tt.networkTst
			if got := NeedsCluster(cfg); got != tt.cluster {
				t.Fatalf("NeedsCluster = %v, want %v", got, tt.cluster)
			}
			if tt.networkTst {
				return // the probe pods are TestNetworkTest's business
			}
			c := cluster(t, "37", nil, threeNodes()...)
			var kube kubernetes.Interface // nil: an offline run must not touch it
			if tt.cluster {
				kube = c
			}
			rep, err := Run(t.Context(), kube, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.cluster && len(c.Actions()) != 0 {
				t.Errorf("an offline selection sent %d requests", len(c.Actions()))
			}
			for _, id := range tt.want {
				if _, ok := rep.Find(id); !ok {
					t.Errorf("%s not reported: %v", id, ids(rep))
				}
			}
			for _, id := range tt.wantNot {
				if _, ok := rep.Find(id); ok {
					t.Errorf("%s reported: %v", id, ids(rep))
				}
			}
			for _, c := range rep.Checks {
				if !tt.sel.Keeps(c) {
					t.Errorf("%s reported but not selected", c.ID)
				}
			}
		})
	}
}

func ids(r *check.Report) []string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.ID)
	}
	return out
}

func TestSelectionValidate(t *testing.T) {
	tests := []struct {
		sel  Selection
		want string
	}{
		{Selection{Only: []string{"tsl"}}, `{flag:only} "tsl" matches no check`},
		{Selection{Skip: []string{"nodes.cuont"}}, `{flag:skip} "nodes.cuont" matches no check`},
		{Selection{Only: []string{"tls.["}}, "malformed glob"},
		{Selection{Only: []string{""}}, "empty check id"},
	}
	for _, tt := range tests {
		if err := tt.sel.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.sel, err, tt.want)
		}
	}
	for _, id := range KnownIDs() {
		if err := (Selection{Only: []string{id}}).Validate(); err != nil {
			t.Errorf("known id %s rejected: %v", id, err)
		}
	}
}
