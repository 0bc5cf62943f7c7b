package plan

import (
	"strings"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/internal/bundletest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
)

func TestPlanFromRelease(t *testing.T) {
	m := manifest.MustLoad()
	tests := []struct {
		name     string
		from, to string
		server   string
		hops     string
		action   Action
		kube     map[string]check.Status
		renamed  bool
		reason   string
		matchesN int
	}{
		{"7.2.2c → 7.3.1, Kubernetes 1.27", "v7.2.2c", "v7.3.1", "v1.27.3", "v7.3.1", ActionUpgrade, map[string]check.Status{"kubernetes.1": check.Pass}, false, "", 1},
		{"7.1.2 → 7.3.1, Kubernetes unknown", "v7.1.2", "v7.3.1", "", "v7.1.3a → v7.2.2c → v7.3.1", ActionUpgrade,
			map[string]check.Status{"kubernetes.1": check.Skip, "kubernetes.2": check.Skip, "kubernetes.3": check.Skip}, true, "", 2},
		{"7.1.3a → 7.2.2c, Kubernetes 1.21 too old", "v7.1.3a", "v7.2.2c", "v1.21.0", "v7.2.2c", ActionUpgrade, map[string]check.Status{"kubernetes.1": check.Fail}, true, "", 1},
		{"v7.3.0 is planned from itself, not from v7.3.1 which shares its charts", "v7.3.0", "v7.3.1", "", "", ActionNone, nil, false, "", 2},
		{"backwards is a downgrade", "v7.3.1", "v7.2.2c", "", "", ActionDowngrade, nil, false, "this is a downgrade", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, err := m.Resolve(tt.from)
			if err != nil {
				t.Fatal(err)
			}
			to, _ := m.Resolve(tt.to)
			st := StateOf(m, from, "tpe-prod")
			if !st.Assumed || st.Current.Name != from.Name || st.Matches[0] != from.Name || len(st.Matches) != tt.matchesN || st.Fresh() {
				t.Fatalf("StateOf: %+v", st)
			}
			p := New(t.Context(), Input{Matrix: m, State: st, To: to, Server: serverVersion(tt.server)})
			if !p.Offline || p.Installed != from.Name || p.HopNames() != tt.hops || p.Action != tt.action {
				t.Fatalf("plan: offline %v installed %q hops %q action %q (%s)", p.Offline, p.Installed, p.HopNames(), p.Action, p.Reason)
			}
			if tt.reason != "" && !strings.Contains(p.Reason, tt.reason) {
				t.Errorf("reason %q, want %q", p.Reason, tt.reason)
			}
			for id, want := range tt.kube {
				if got := statusOf(p, id); got != want {
					t.Errorf("%s = %s, want %s", id, got, want)
				}
			}
			renamed := false
			for _, h := range p.Hops {
				for _, c := range h.Charts {
					renamed = renamed || c.Renamed
				}
				for _, s := range h.AdminSteps {
					if s.Status != AdminUnknown || s.Detail != NotChecked {
						t.Errorf("hop %d step %s: %+v, want unknown: %s", h.N, s.ID, s, NotChecked)
					}
				}
			}
			if renamed != tt.renamed {
				t.Errorf("renamed = %v, want %v", renamed, tt.renamed)
			}
			for _, c := range p.Report.Checks {
				if strings.HasPrefix(c.ID, "path.release-status") || c.Category == CategoryPermissions {
					t.Errorf("an offline plan reports %s: %s", c.ID, c.Message)
				}
			}
		})
	}
}

func TestPlanBundleHoldsThePath(t *testing.T) {
	m := manifest.MustLoad()
	from, _ := m.Get("v7.1.3a")
	to, _ := m.Get("v7.3.1")
	for _, tt := range []struct {
		holds  []string
		status check.Status
		want   string
	}{
		{[]string{"v7.2.2c", "v7.3.1"}, check.Pass, "holds every release of the path"},
		{[]string{"v7.3.1"}, check.Fail, "lacks thingpark-data-controllers 1.1.1 (v7.2.2c)"},
	} {
		b := bundletest.New(t, "site.tar.gz", nil, tt.holds...)
		p := New(t.Context(), Input{Matrix: m, To: to, State: StateOf(m, from, "tpe"), Charts: charts.NewBundleSource(b)})
		c, ok := p.Report.Find("charts.bundle")
		if !ok || c.Status != tt.status || !strings.Contains(c.Message, tt.want) {
			t.Errorf("bundle of %v: charts.bundle = %+v (%v), want %s %q", tt.holds, c, ok, tt.status, tt.want)
		}
		if tt.status == check.Fail && (len(p.Blocking(false)) == 0 || !strings.Contains(c.Remediation, "{cmd:bundle-create} {flag:from} v7.1.3a {flag:to} v7.3.1")) {
			t.Errorf("a bundle that lacks a release must block the run and say how to build the right one: %+v", c)
		}
	}
}
