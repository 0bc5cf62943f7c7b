package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/runtime"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// serverVersion is the /version answer of a cluster running v ("" = unknown).
func serverVersion(v string) prereq.ServerVersion {
	if v == "" {
		return prereq.ServerVersion{}
	}
	return prereq.ServerVersion{GitVersion: v}
}

func TestLoadStateMatches(t *testing.T) {
	m := manifest.MustLoad()
	tests := []struct {
		name      string
		setup     func(*testing.T, *action.Configuration)
		fresh     bool
		matches   []string
		describes string
	}{
		{"fresh namespace", func(*testing.T, *action.Configuration) {}, true, nil, "nothing installed"},
		{"v7.2.2c", func(t *testing.T, c *action.Configuration) { helmtest.InstallAll(t, c, "v7.2.2c") }, false, []string{"v7.2.2c"}, "tpe=thingpark-enterprise-1.2.25 (deployed)"},
		{"v7.3.1 shares its charts with v7.3.0", func(t *testing.T, c *action.Configuration) { helmtest.InstallAll(t, c, "v7.3.1") }, false, []string{"v7.3.1", "v7.3.0"}, ""},
		{"half upgraded", func(t *testing.T, c *action.Configuration) {
			r, _ := m.Get("v7.2.2c")
			n, _ := m.Get("v7.3.1")
			helmtest.InstallRelease(t, c, n.Charts()[0], 1, helmrelease.StatusDeployed)
			for _, ch := range r.Charts()[1:] {
				helmtest.InstallRelease(t, c, ch, 1, helmrelease.StatusDeployed)
			}
		}, false, nil, "tpe-data-controllers=thingpark-data-controllers-1.2.4"},
		{"uninstalled releases do not count", func(t *testing.T, c *action.Configuration) {
			r, _ := m.Get("v7.2.2c")
			for _, ch := range r.Charts() {
				helmtest.InstallRelease(t, c, ch, 1, helmrelease.StatusUninstalled)
			}
		}, true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := helmtest.NewActionConfig(t)
			tt.setup(t, cfg)
			st, err := LoadState(cfg, helmtest.NS, m)
			if err != nil {
				t.Fatal(err)
			}
			if st.Fresh() != tt.fresh || strings.Join(st.Matches, ",") != strings.Join(tt.matches, ",") {
				t.Errorf("fresh %v matches %v; want %v %v", st.Fresh(), st.Matches, tt.fresh, tt.matches)
			}
			if !strings.Contains(st.Describe(), tt.describes) {
				t.Errorf("Describe() = %q, want it to contain %q", st.Describe(), tt.describes)
			}
		})
	}
}

func planFor(t *testing.T, installed, target, server string, kube *fake.Clientset, dyn *dynfake.FakeDynamicClient, vals values.Values, files []string) *Plan {
	t.Helper()
	m := manifest.MustLoad()
	cfg := helmtest.NewActionConfig(t)
	if installed != "" {
		helmtest.InstallAll(t, cfg, installed)
	}
	st, err := LoadState(cfg, helmtest.NS, m)
	if err != nil {
		t.Fatal(err)
	}
	to, err := m.Resolve(target)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Matrix: m, State: st, To: to, Server: serverVersion(server), Values: vals, ValueFiles: files, Admin: fixtureRepo{}}
	if kube != nil {
		in.Kube = kube
	}
	if dyn != nil {
		in.Dynamic = dyn
	}
	return New(t.Context(), in)
}

func statusOf(p *Plan, id string) check.Status {
	c, ok := p.Report.Find(id)
	if !ok {
		return "absent"
	}
	return c.Status
}

func TestPlanHopsAndAdminSteps(t *testing.T) {
	allPC := helmtest.PriorityClasses("thingpark-datapath", "thingpark-data", "thingpark-others")
	crdsOK := append(helmtest.FixtureCRDs(t, "manifests/upgrade/strimzi-crds-0.32.0.yaml", true),
		helmtest.FixtureCRDs(t, "manifests/upgrade/percona-server-mongodb-operator-crds-1.13.0.yaml", true)...)
	tests := []struct {
		name      string
		installed string
		target    string
		server    string
		kube      *fake.Clientset
		dyn       *dynfake.FakeDynamicClient
		hops      string
		steps     map[string]AdminStatus
		checks    map[string]check.Status
		worst     check.Status
	}{
		{name: "7.2.2c → 7.3.1, CRDs missing", installed: "v7.2.2c", target: "v7.3.1", server: "v1.26.3",
			kube: fake.NewClientset(allPC...), dyn: helmtest.NewDynamic(), hops: "v7.2.2c→v7.3.1(major)",
			steps:  map[string]AdminStatus{"crd-strimzi": AdminTodo, "crd-psmdb": AdminTodo, "priorityclasses": AdminDone, "storageclasses": AdminUnknown},
			checks: map[string]check.Status{"admin.1.crd-strimzi": check.Fail, "kubernetes.1": check.Pass, "downtime": check.Manual}, worst: check.Fail},
		{name: "7.2.2c → 7.3.1, admin steps done, newer cluster warns", installed: "v7.2.2c", target: "v7.3.1", server: "v1.37.2",
			kube: fake.NewClientset(allPC...), dyn: helmtest.NewDynamic(crdsOK...), hops: "v7.2.2c→v7.3.1(major)",
			steps:  map[string]AdminStatus{"crd-strimzi": AdminDone, "crd-psmdb": AdminDone, "priorityclasses": AdminDone},
			checks: map[string]check.Status{"kubernetes.1": check.Warn}, worst: check.Warn},
		{name: "strimzi CRDs of no known version are not done (a version label proves nothing)", installed: "v7.2.2c", target: "v7.3.1", server: "v1.26.0",
			kube: fake.NewClientset(allPC...), dyn: helmtest.NewDynamic(helmtest.CRDObject("kafkas.kafka.strimzi.io", "0.32.0"), helmtest.CRDObject("strimzipodsets.core.strimzi.io", "0.32.0")),
			hops: "v7.2.2c→v7.3.1(major)", steps: map[string]AdminStatus{"crd-strimzi": AdminUnknown}, checks: map[string]check.Status{"admin.1.crd-strimzi": check.Manual}},
		{name: "older cluster blocks", installed: "v7.2.2c", target: "v7.3.1", server: "v1.22.5",
			kube: fake.NewClientset(allPC...), dyn: helmtest.NewDynamic(crdsOK...), hops: "v7.2.2c→v7.3.1(major)",
			checks: map[string]check.Status{"kubernetes.1": check.Fail}, worst: check.Fail},
		{name: "7.1.2 → 7.3.1 goes through the latest fixes, chart 3 renamed", installed: "v7.1.2", target: "v7.3.1", server: "v1.24.0",
			hops:   "v7.1.2a→v7.1.3a(hotfix/maintenance)→v7.2.2c(major)→v7.3.1(major)",
			checks: map[string]check.Status{"charts.rename.2": check.Pass, "kubernetes.1": check.Pass, "admin.3.crd-strimzi": check.Manual}},
		{name: "fresh install of 7.3.1 needs the PriorityClasses", target: "v7.3.1", server: "v1.27.1",
			kube: fake.NewClientset(), hops: "∅→v7.3.1(install)", steps: map[string]AdminStatus{"priorityclasses": AdminTodo},
			checks: map[string]check.Status{"downtime": "absent"}, worst: check.Fail},
		{name: "backwards is refused", installed: "v7.3.1", target: "v7.2.2c", hops: "", checks: map[string]check.Status{"path.reachable": check.Fail}, worst: check.Fail},
		{name: "already there", installed: "v7.3.1", target: "v7.3.0", hops: "", checks: map[string]check.Status{"path.reachable": check.Pass}, worst: check.Skip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planFor(t, tt.installed, tt.target, tt.server, tt.kube, tt.dyn, nil, nil)
			var hops []string
			for i, h := range p.Hops {
				if i == 0 {
					from := h.From
					if from == "" {
						from = "∅"
					}
					hops = append(hops, from)
				}
				hops = append(hops, h.To+"("+h.Kind+")")
			}
			if got := strings.Join(hops, "→"); got != tt.hops {
				t.Errorf("hops = %q, want %q", got, tt.hops)
			}
			got := map[string]AdminStatus{}
			if len(p.Hops) > 0 {
				for _, s := range p.Hops[len(p.Hops)-1].AdminSteps {
					got[s.ID] = s.Status
				}
			}
			for id, want := range tt.steps {
				if got[id] != want {
					t.Errorf("admin step %s = %q, want %q (%v)", id, got[id], want, got)
				}
			}
			for id, want := range tt.checks {
				if s := statusOf(p, id); s != want {
					t.Errorf("check %s = %s, want %s", id, s, want)
				}
			}
			if tt.worst != "" && tt.worst != check.Skip && p.Report.Worst() != tt.worst {
				t.Errorf("worst = %s, want %s: %+v", p.Report.Worst(), tt.worst, p.Report.Checks)
			}
		})
	}
}

func TestPlanRenamedChart(t *testing.T) {
	p := planFor(t, "v7.2.1b", "v7.2.2c", "v1.25.0", nil, nil, nil, nil)
	if len(p.Hops) != 1 {
		t.Fatalf("hops %+v", p.Hops)
	}
	c := p.Hops[0].Charts[2]
	if !c.Renamed || c.FromChart != manifest.ChartEnterpriseControllers || c.Chart != manifest.ChartApplicationControllers || c.Action != ActionUpgrade {
		t.Errorf("chart 3: %+v", c)
	}
}

func TestPlanUnknownInstalled(t *testing.T) {
	m := manifest.MustLoad()
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "9.9.9"}, 1, helmrelease.StatusDeployed)
	st, _ := LoadState(cfg, helmtest.NS, m)
	to, _ := m.Resolve("v7.3.1")
	p := New(t.Context(), Input{Matrix: m, State: st, To: to})
	if p.Reachable || statusOf(p, "path.installed") != check.Fail || !strings.Contains(p.Reason, "match no known TPE release") {
		t.Errorf("plan: reachable %v reason %q", p.Reachable, p.Reason)
	}
}

func TestPlanValues(t *testing.T) {
	m := manifest.MustLoad()
	to, _ := m.Resolve("v7.3.1")
	st := &State{Namespace: helmtest.NS, Releases: map[string]Installed{}}
	vals := values.Values{"global": map[string]any{"installationId": "abcdefgh1234", "oldGlobal": 1}, "known": map[string]any{"a": 2, "b": 3}, "gone": true}
	p := New(t.Context(), Input{Matrix: m, State: st, To: to, Values: vals, ValueFiles: []string{"v.yaml"}, Charts: helmtest.FakeCharts{}})
	c, ok := p.Report.Find("values.unknown-keys")
	if !ok || c.Status != check.Warn || strings.Join(c.Details, ",") != "global.oldGlobal,gone,known.b" {
		t.Errorf("unknown keys check: %+v", c)
	}
	if statusOf(p, "values.installation-id") != check.Pass {
		t.Errorf("installation id check: %s", statusOf(p, "values.installation-id"))
	}
	for _, ch := range p.Report.Checks {
		if strings.Contains(ch.Message+strings.Join(ch.Details, ""), "abcdefgh1234") {
			t.Errorf("the installation ID leaks into %+v", ch)
		}
	}
}

func TestUnknownKeysSubchartsAndSchema(t *testing.T) {
	sub := &chart.Chart{Metadata: &chart.Metadata{Name: "strimzi", Version: "1.0.0"}, Values: map[string]any{"image": map[string]any{"tag": "x"}, "global": map[string]any{"subGlobal": 1}}}
	parent := &chart.Chart{Metadata: &chart.Metadata{Name: "p", Version: "1.0.0", Dependencies: []*chart.Dependency{{Name: "strimzi", Alias: "strimzi-kafka-operator"}}},
		Values: map[string]any{"free": map[string]any{}, "x": 1}}
	parent.SetDependencies(sub)
	user := values.Values{"strimzi-kafka-operator": map[string]any{"image": map[string]any{"tag": "y", "bad": 1}}, "free": map[string]any{"anything": 1},
		"global": map[string]any{"subGlobal": 2, "nope": 1}, "x": map[string]any{"deeper": 1}}
	got := UnknownKeys(user, []*chart.Chart{parent})
	if strings.Join(got, ",") != "global.nope,strimzi-kafka-operator.image.bad" {
		t.Errorf("UnknownKeys = %v", got)
	}
	schemaChart := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "s", Version: "1.4.1"},
		Schema: []byte(`{"type":"object","required":["global"],"properties":{"global":{"type":"object","required":["dnsHostname"]}}}`)}
	if err := validateSchema(schemaChart, values.Values{"global": map[string]any{}}); err == nil || !strings.Contains(err.Error(), "dnsHostname") {
		t.Errorf("schema: %v", err)
	}
}

// helmtest.FakeExec plays the thingpark-enterprise-controller and the PUM, as the vendor's tools print.

// fixtureRepo serves the fixture configuration repository at any ref.
type fixtureRepo struct{}

func (fixtureRepo) Read(_ context.Context, _ manifest.Release, p string) ([]byte, error) {
	return os.ReadFile(filepath.Join(configrepo.Dir(), p))
}

func (fixtureRepo) Describe() string { return "the fixture repository" }

// TestPlanCRDStepsOf80 judges the 8.0 hop on the vendor-shaped fixtures: Percona at 1.13.0 is to
// do (next 1.14.0), Strimzi 0.42 is not 0.44, and once all are applied nothing needs --ack-admin-steps.
func TestPlanCRDStepsOf80(t *testing.T) {
	strimzi := func(v string) []runtime.Object {
		return helmtest.FixtureCRDs(t, "manifests/upgrade/strimzi-crds-"+v+".yaml", true)
	}
	psmdb := func(v string) []runtime.Object {
		return helmtest.FixtureCRDs(t, "manifests/upgrade/percona-server-mongodb-operator-crds-"+v+".yaml", true)
	}
	tests := []struct {
		name   string
		crds   []runtime.Object
		psmdb  AdminStatus
		detail string
		strimz AdminStatus
		acks   int
	}{
		{"7.3-era CRDs", append(strimzi("0.32.0"), psmdb("1.13.0")...), AdminTodo, "Percona CRDs match 1.13.0; next: 1.14.0", AdminTodo, 3},
		{"strimzi 0.42 is not 0.44", append(strimzi("0.42.0"), psmdb("1.15.0")...), AdminTodo, "Percona CRDs match 1.15.0; next: 1.16.1", AdminUnknown, 3},
		{"all applied", append(strimzi("0.44.0"), psmdb("1.17.0")...), AdminDone, "Percona CRDs match 1.17.0", AdminDone, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcs := helmtest.PriorityClasses("thingpark-datapath", "thingpark-data", "thingpark-others")
			p := planFor(t, "v7.3.6", "v8.0.0", "v1.28.0", fake.NewClientset(pcs...), helmtest.NewDynamic(tt.crds...), nil, nil)
			if len(p.Hops) != 1 {
				t.Fatalf("hops %+v", p.Hops)
			}
			got := map[string]AdminStep{}
			for _, s := range p.Hops[0].AdminSteps {
				got[s.ID] = s
				if strings.Contains(s.Detail, "inferred") {
					t.Errorf("step %s repeats the inferred note: %s", s.ID, s.Detail)
				}
			}
			if s := got["crd-psmdb"]; s.Status != tt.psmdb || s.Detail != tt.detail {
				t.Errorf("crd-psmdb = %s %q, want %s %q", s.Status, s.Detail, tt.psmdb, tt.detail)
			}
			if s := got["crd-strimzi"]; s.Status != tt.strimz {
				t.Errorf("crd-strimzi = %s %q, want %s", s.Status, s.Detail, tt.strimz)
			}
			if !strings.Contains(p.Hops[0].AdminNote, "inferred") {
				t.Errorf("hop note %q: want the inferred note once per hop", p.Hops[0].AdminNote)
			}
			// the storage step (no values file) cannot be verified: it alone needs an acknowledgement
			if n := len(p.Unverifiable()); n != tt.acks {
				t.Errorf("unverifiable steps %v, want %d", p.Unverifiable(), tt.acks)
			}
		})
	}
}
