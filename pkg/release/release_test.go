package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmcli "helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/getter"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

const ns = "thingpark-enterprise"

func newActionConfig(t *testing.T) *action.Configuration {
	t.Helper()
	mem := driver.NewMemory()
	mem.SetNamespace(ns)
	return &action.Configuration{Releases: storage.Init(mem), KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities, Log: func(string, ...any) {}}
}

// fakeCharts builds the charts of the matrix in memory: a ConfigMap that names the chart, and a
// Secret (to check the redaction of diffs).
type fakeCharts struct {
	failRender map[string]bool
}

func (f fakeCharts) LoadChart(name, version string) (*chart.Chart, error) {
	tpl := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-info\ndata:\n  chart: %s\n  version: %s\n", name, version)
	if f.failRender[name+"-"+version] {
		tpl = `{{ fail "fixture.failRender" }}`
	}
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: version, AppVersion: "app-" + version},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(tpl)},
			{Name: "templates/secret.yaml", Data: []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-s\nstringData:\n  password: pw-" + version + "\n")}},
		Values: map[string]any{"global": map[string]any{"installationId": ""}, "known": map[string]any{"a": 1}},
	}, nil
}

// installRelease stores a deployed release of the chart reference.
func installRelease(t *testing.T, cfg *action.Configuration, c manifest.ChartRef, rev int, status helmrelease.Status) {
	t.Helper()
	ch, _ := fakeCharts{}.LoadChart(c.Chart, c.Version)
	// The manifest Helm would have rendered from fakeCharts' templates.
	manifestText := fmt.Sprintf("---\n# Source: %[1]s/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[3]s-info\ndata:\n  chart: %[1]s\n  version: %[2]s\n"+
		"---\n# Source: %[1]s/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %[3]s-s\nstringData:\n  password: pw-%[2]s\n", c.Chart, c.Version, c.ReleaseName)
	r := &helmrelease.Release{Name: c.ReleaseName, Namespace: ns, Version: rev, Chart: ch, Manifest: manifestText,
		Info: &helmrelease.Info{Status: status}, Config: map[string]any{"global": map[string]any{"installationId": "id-secret-1234"}}}
	if err := cfg.Releases.Create(r); err != nil {
		t.Fatal(err)
	}
}

func installAll(t *testing.T, cfg *action.Configuration, name string) {
	t.Helper()
	r, err := manifest.MustLoad().Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Charts() {
		installRelease(t, cfg, c, 1, helmrelease.StatusDeployed)
	}
}

var crdRes = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

func crdObj(name, version string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	u.SetName(name)
	if version != "" {
		u.SetLabels(map[string]string{"app.kubernetes.io/version": version})
	}
	return u
}

func newDynamic(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{crdRes: "CustomResourceDefinitionList"}, objs...)
}

func priorityClasses(names ...string) []runtime.Object {
	var out []runtime.Object
	for _, n := range names {
		out = append(out, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	return out
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
		{"v7.2.2c", func(t *testing.T, c *action.Configuration) { installAll(t, c, "v7.2.2c") }, false, []string{"v7.2.2c"}, "tpe=thingpark-enterprise-1.2.25 (deployed)"},
		{"v7.3.1 shares its charts with v7.3.0", func(t *testing.T, c *action.Configuration) { installAll(t, c, "v7.3.1") }, false, []string{"v7.3.1", "v7.3.0"}, ""},
		{"half upgraded", func(t *testing.T, c *action.Configuration) {
			r, _ := m.Get("v7.2.2c")
			n, _ := m.Get("v7.3.1")
			installRelease(t, c, n.Charts()[0], 1, helmrelease.StatusDeployed)
			for _, ch := range r.Charts()[1:] {
				installRelease(t, c, ch, 1, helmrelease.StatusDeployed)
			}
		}, false, nil, "tpe-data-controllers=thingpark-data-controllers-1.2.4"},
		{"uninstalled releases do not count", func(t *testing.T, c *action.Configuration) {
			r, _ := m.Get("v7.2.2c")
			for _, ch := range r.Charts() {
				installRelease(t, c, ch, 1, helmrelease.StatusUninstalled)
			}
		}, true, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newActionConfig(t)
			tt.setup(t, cfg)
			st, err := LoadState(cfg, ns, m)
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
	cfg := newActionConfig(t)
	if installed != "" {
		installAll(t, cfg, installed)
	}
	st, err := LoadState(cfg, ns, m)
	if err != nil {
		t.Fatal(err)
	}
	to, err := m.Resolve(target)
	if err != nil {
		t.Fatal(err)
	}
	in := PlanInput{Matrix: m, State: st, Target: to, ServerVersion: server, Values: vals, ValueFiles: files}
	if kube != nil {
		in.Kube = kube
	}
	if dyn != nil {
		in.Dynamic = dyn
	}
	return NewPlan(t.Context(), in)
}

func statusOf(p *Plan, id string) check.Status {
	c, ok := p.Report.Find(id)
	if !ok {
		return "absent"
	}
	return c.Status
}

func TestPlanHopsAndAdminSteps(t *testing.T) {
	allPC := priorityClasses("thingpark-datapath", "thingpark-data", "thingpark-others")
	crdsOK := []runtime.Object{crdObj("kafkas.kafka.strimzi.io", "0.32.0"), crdObj("strimzipodsets.core.strimzi.io", ""),
		crdObj("perconaservermongodbs.psmdb.percona.com", "1.13.0"), crdObj("perconaservermongodbbackups.psmdb.percona.com", ""),
		crdObj("perconaservermongodbrestores.psmdb.percona.com", "")}
	tests := []struct {
		name      string
		installed string
		target    string
		server    string
		kube      *fake.Clientset
		dyn       *dynfake.FakeDynamicClient
		hops      string
		steps     map[string]string
		checks    map[string]check.Status
		worst     check.Status
	}{
		{name: "7.2.2c → 7.3.1, CRDs missing", installed: "v7.2.2c", target: "v7.3.1", server: "v1.26.3",
			kube: fake.NewClientset(allPC...), dyn: newDynamic(), hops: "v7.2.2c→v7.3.1(major)",
			steps:  map[string]string{"crd-strimzi": StepTodo, "crd-psmdb": StepTodo, "priorityclasses": StepDone, "storageclasses": StepUnknown},
			checks: map[string]check.Status{"admin.1.crd-strimzi": check.Fail, "kubernetes.1": check.Pass, "downtime": check.Manual}, worst: check.Fail},
		{name: "7.2.2c → 7.3.1, admin steps done, newer cluster warns", installed: "v7.2.2c", target: "v7.3.1", server: "v1.37.2",
			kube: fake.NewClientset(allPC...), dyn: newDynamic(crdsOK...), hops: "v7.2.2c→v7.3.1(major)",
			steps:  map[string]string{"crd-strimzi": StepDone, "crd-psmdb": StepDone, "priorityclasses": StepDone},
			checks: map[string]check.Status{"kubernetes.1": check.Warn}, worst: check.Warn},
		{name: "old strimzi CRDs are not done", installed: "v7.2.2c", target: "v7.3.1", server: "v1.26.0",
			kube: fake.NewClientset(allPC...), dyn: newDynamic(crdObj("kafkas.kafka.strimzi.io", "0.26.1"), crdObj("strimzipodsets.core.strimzi.io", "0.26.1")),
			hops: "v7.2.2c→v7.3.1(major)", steps: map[string]string{"crd-strimzi": StepTodo}, worst: check.Fail},
		{name: "older cluster blocks", installed: "v7.2.2c", target: "v7.3.1", server: "v1.22.5",
			kube: fake.NewClientset(allPC...), dyn: newDynamic(crdsOK...), hops: "v7.2.2c→v7.3.1(major)",
			checks: map[string]check.Status{"kubernetes.1": check.Fail}, worst: check.Fail},
		{name: "7.1.2 → 7.3.1 goes through the latest fixes, chart 3 renamed", installed: "v7.1.2", target: "v7.3.1", server: "v1.24.0",
			hops:   "v7.1.2a→v7.1.3a(hotfix/maintenance)→v7.2.2c(major)→v7.3.1(major)",
			checks: map[string]check.Status{"charts.rename.2": check.Pass, "kubernetes.1": check.Pass, "admin.3.crd-strimzi": check.Manual}},
		{name: "fresh install of 7.3.1 needs the PriorityClasses", target: "v7.3.1", server: "v1.27.1",
			kube: fake.NewClientset(), hops: "∅→v7.3.1(install)", steps: map[string]string{"priorityclasses": StepTodo},
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
			got := map[string]string{}
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
	cfg := newActionConfig(t)
	installRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "9.9.9"}, 1, helmrelease.StatusDeployed)
	st, _ := LoadState(cfg, ns, m)
	to, _ := m.Resolve("v7.3.1")
	p := NewPlan(t.Context(), PlanInput{Matrix: m, State: st, Target: to})
	if p.Reachable || statusOf(p, "path.installed") != check.Fail || !strings.Contains(p.Reason, "match no known TPE release") {
		t.Errorf("plan: reachable %v reason %q", p.Reachable, p.Reason)
	}
}

func TestPlanValues(t *testing.T) {
	m := manifest.MustLoad()
	to, _ := m.Resolve("v7.3.1")
	st := &State{Namespace: ns, Releases: map[string]Installed{}}
	vals := values.Values{"global": map[string]any{"installationId": "abcdefgh1234", "oldGlobal": 1}, "known": map[string]any{"a": 2, "b": 3}, "gone": true}
	p := NewPlan(t.Context(), PlanInput{Matrix: m, State: st, Target: to, Values: vals, ValueFiles: []string{"v.yaml"}, Charts: fakeCharts{}})
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

// fakeExec plays the thingpark-enterprise-controller and the PUM, as the vendor's tools print.
type fakeExec struct {
	mu       sync.Mutex
	backups  map[string]string // name → metadata YAML lines
	order    []string
	restores []string
	stdins   []string
	fail     map[string]string
	noPod    bool
	pumState string
	calls    []string
	// release is what `backup` records (chart, appVersion, revision of tpe).
	chart, app string
	rev        int
}

func (f *fakeExec) Exec(_ context.Context, t podexec.Target, cmd []string, stdin io.Reader) (podexec.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, t.Deployment+" "+strings.Join(cmd, " "))
	if f.noPod {
		return podexec.Result{}, &podexec.NoReadyPodError{Target: t, Reason: "the deployment does not exist"}
	}
	if msg, ok := f.fail[cmd[0]]; ok {
		return podexec.Result{Stdout: "localhost failed: {\n    \"changed\": false,\n    \"msg\": \"" + msg + "\"\n}\n"}, errors.New("command terminated with exit code 1")
	}
	switch cmd[0] {
	case "list-backups":
		var b strings.Builder
		b.WriteString("List backups...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": [")
		for i, n := range f.order {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n        \"" + n + "\"")
		}
		b.WriteString("\n    ]\n}\n")
		return podexec.Result{Stdout: b.String()}, nil
	case "backup":
		name := fmt.Sprintf("thingpark-enterprise-backup-2023101108%04d", len(f.order))
		f.backups[name] = fmt.Sprintf("helm:\n    appVersion: %s\n    chart: %s\n    releaseName: tpe\n    releaseNamespace: %s\n    revision: '%d'\nid: %s\ntm: '2023-10-11T08:12:40Z'\ntype: on-demand", f.app, f.chart, ns, f.rev, name)
		f.order = append(f.order, name)
		return podexec.Result{Stdout: "Backup data...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": \"New backup " + name + " successfully pushed to remote storage\"\n}\n"}, nil
	case "get-backup-metadatas":
		name := strings.TrimPrefix(cmd[2], "backup_name=")
		md, ok := f.backups[name]
		if !ok {
			return podexec.Result{Stdout: "localhost failed: {\n    \"changed\": false,\n    \"msg\": \"Backup " + name + " not found on remote storage\"\n}\n"}, errors.New("exit 1")
		}
		var b strings.Builder
		b.WriteString("Backup metadatas:...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": [\n")
		for i, l := range strings.Split(md, "\n") {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("        \"" + strings.ReplaceAll(l, `"`, `\"`) + "\"")
		}
		b.WriteString("\n    ]\n}\n")
		return podexec.Result{Stdout: b.String()}, nil
	case "restore":
		in, _ := io.ReadAll(stdin)
		f.stdins = append(f.stdins, string(in))
		f.restores = append(f.restores, strings.TrimPrefix(cmd[2], "backup_name="))
		return podexec.Result{Stdout: "localhost ok: {\n    \"msg\": \"restored\"\n}\n"}, nil
	case "status":
		return podexec.Result{Stdout: "1 entrie(s)\nuid: 2\nrequestID: 'R-1'\nstate: '" + f.pumState + "'\nerrorCounter: 0\niterationCounter: 1\n"}, nil
	}
	return podexec.Result{}, fmt.Errorf("unknown command %v", cmd)
}

func newFakeExec() *fakeExec {
	return &fakeExec{backups: map[string]string{}, fail: map[string]string{}, pumState: "PROCESSED"}
}

func newRunner(t *testing.T, cfg *action.Configuration, kube *fake.Clientset, ex *fakeExec) *Runner {
	return &Runner{Action: cfg, Kube: kube, Exec: ex, Namespace: ns, Charts: fakeCharts{},
		Values:  map[string]any{"global": map[string]any{"installationId": "id-secret-1234"}},
		Timeout: time.Minute, RetryCommand: "helm tpe upgrade --to v7.3.1 -f v.yaml",
		Wait: func(context.Context, string, time.Duration) error { return nil },
		PUM: func(ctx context.Context, n string) (*pum.Status, error) {
			return pum.Get(ctx, ex, n)
		},
		Log: func(format string, a ...any) { t.Logf(format, a...) }}
}

func plan(t *testing.T, cfg *action.Configuration, target string) *Plan {
	t.Helper()
	m := manifest.MustLoad()
	st, err := LoadState(cfg, ns, m)
	if err != nil {
		t.Fatal(err)
	}
	to, _ := m.Resolve(target)
	return NewPlan(t.Context(), PlanInput{Matrix: m, State: st, Target: to})
}

func revisions(t *testing.T, cfg *action.Configuration) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range manifest.ReleaseNames {
		r, err := lastRelease(cfg, n)
		if err != nil || r == nil {
			continue
		}
		out[n] = fmt.Sprintf("%d:%s:%s", r.Version, ChartFullName(r.Chart), r.Info.Status)
	}
	return out
}

func TestRunnerInstallUpgradeResumeRerunRollback(t *testing.T) {
	cfg := newActionConfig(t)
	kube := fake.NewClientset()
	ex := newFakeExec()
	ctx := t.Context()

	// fresh install of 7.2.2c: the backup is skipped (no controller yet)
	r := newRunner(t, cfg, kube, ex)
	res, err := r.Run(ctx, plan(t, cfg, "v7.2.2c"))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != RunDone || !res.Changed || res.Steps[0].State != StateSkipped || !strings.Contains(res.Steps[0].Message, "fresh install") {
		t.Fatalf("install: %+v", res)
	}
	want := map[string]string{"tpe-data-controllers": "1:thingpark-data-controllers-1.1.1:deployed", "tpe-data": "1:thingpark-data-1.2.5:deployed",
		"tpe-controllers": "1:thingpark-application-controllers-1.1.6:deployed", "tpe": "1:thingpark-enterprise-1.2.25:deployed"}
	if got := revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after install: %v", got)
	}

	// upgrade to 7.3.1, interrupted after the second chart
	ex.chart, ex.app, ex.rev = "thingpark-enterprise-1.2.25", "app-1.2.25", 1
	r = newRunner(t, cfg, kube, ex)
	r.StopAfter = "tpe-data"
	_, err = r.Run(ctx, plan(t, cfg, "v7.3.1"))
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, ErrInterrupted) || !strings.Contains(se.Next, "--resume") {
		t.Fatalf("interrupted run: %v", err)
	}
	store := ProgressStore{Kube: kube, Namespace: ns}
	prog, err := store.Load(ctx)
	if err != nil || prog.State != RunFailed || prog.Backup == "" || prog.Steps[prog.Next()].ReleaseName != "tpe-controllers" {
		t.Fatalf("progress after interruption: %+v, %v", prog, err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(ns).Get(ctx, ProgressConfigMap, metav1.GetOptions{})
	if s := fmt.Sprint(cm.Data); strings.Contains(s, "id-secret-1234") {
		t.Fatalf("the progress ConfigMap holds the installation ID: %s", s)
	}

	// a run without --resume refuses; with --resume it continues where it stopped
	r = newRunner(t, cfg, kube, ex)
	if _, err := r.Run(ctx, plan(t, cfg, "v7.3.1")); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("rerun without --resume: %v", err)
	}
	r.Resume = true
	_, err = r.Run(ctx, &Plan{Target: "v7.3.1", Action: ActionUpgrade, Reachable: true})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"tpe-data-controllers": "2:thingpark-data-controllers-1.2.4:deployed", "tpe-data": "2:thingpark-data-1.3.5:deployed",
		"tpe-controllers": "2:thingpark-application-controllers-1.2.4:deployed", "tpe": "2:thingpark-enterprise-1.4.1:deployed"}
	if got := revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after resume: %v", got)
	}
	if len(ex.order) != 1 {
		t.Errorf("backups taken: %v, want exactly one", ex.order)
	}

	// a finished upgrade run again changes nothing
	r = newRunner(t, cfg, kube, ex)
	res, err = r.Run(ctx, plan(t, cfg, "v7.3.1"))
	if err != nil || res.Changed {
		t.Fatalf("rerun: %+v %v", res, err)
	}
	if got := revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rerun changed releases: %v", got)
	}

	// rollback: the upgrade backup matches revision 1 of tpe
	rb := &Rollback{Action: cfg, Exec: ex, Namespace: ns, Matrix: manifest.MustLoad(), Progress: &store, Timeout: time.Minute,
		Wait: func(context.Context, string, time.Duration) error { return nil }, Confirm: func(string) (bool, error) { return true, nil }}
	rp, err := rb.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rp.ToRevision != 1 || rp.ToRelease != "v7.2.2c" || rp.Backup.Name != prog.Backup || rp.BackupSource == "" {
		t.Fatalf("rollback plan: %+v", rp)
	}
	rres, err := rb.Run(ctx, rp)
	if err != nil || !rres.Restored {
		t.Fatalf("rollback: %+v %v", rres, err)
	}
	if got := revisions(t, cfg)["tpe"]; got != "3:thingpark-enterprise-1.2.25:deployed" {
		t.Errorf("tpe after rollback: %s", got)
	}
	if len(ex.restores) != 1 || ex.restores[0] != prog.Backup || ex.stdins[0] != "yes\n" {
		t.Errorf("restores %v stdin %q", ex.restores, ex.stdins)
	}
	if got := revisions(t, cfg)["tpe-data"]; !strings.HasPrefix(got, "2:") {
		t.Errorf("tpe-data must not be rolled back without --all-charts: %s", got)
	}
}

func TestRollbackRefusals(t *testing.T) {
	m := manifest.MustLoad()
	ctx := t.Context()
	setup := func(t *testing.T) (*action.Configuration, *fakeExec) {
		cfg := newActionConfig(t)
		installAll(t, cfg, "v7.2.2c")
		// tpe revision 1 is 7.2.2c, revision 2 an unknown chart
		r, _ := lastRelease(cfg, "tpe")
		r.Info.Status = helmrelease.StatusSuperseded
		_ = cfg.Releases.Update(r)
		installRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "1.4.1"}, 2, helmrelease.StatusDeployed)
		ex := newFakeExec()
		ex.chart, ex.app, ex.rev = "thingpark-enterprise-1.2.25", "app-1.2.25", 1
		_, _ = Controller{Exec: ex, Namespace: ns}.Backup(ctx)
		ex.chart, ex.app = "thingpark-enterprise-1.4.1", "app-1.4.1"
		_, _ = Controller{Exec: ex, Namespace: ns}.Backup(ctx) // newest, wrong chart for revision 1
		return cfg, ex
	}
	t.Run("finds the matching backup, not the newest", func(t *testing.T) {
		cfg, ex := setup(t)
		p, err := (&Rollback{Action: cfg, Exec: ex, Namespace: ns, Matrix: m}).Plan(ctx)
		if err != nil || p.Backup.Name != ex.order[0] {
			t.Fatalf("plan %+v %v", p, err)
		}
	})
	t.Run("--backup that does not match", func(t *testing.T) {
		cfg, ex := setup(t)
		_, err := (&Rollback{Action: cfg, Exec: ex, Namespace: ns, Matrix: m, Backup: ex.order[1]}).Plan(ctx)
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown revision needs --to-revision", func(t *testing.T) {
		cfg := newActionConfig(t)
		installRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "0.0.1"}, 1, helmrelease.StatusSuperseded)
		installRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "1.2.25"}, 2, helmrelease.StatusDeployed)
		_, err := (&Rollback{Action: cfg, Exec: newFakeExec(), Namespace: ns, Matrix: m}).Plan(ctx)
		if err == nil || !strings.Contains(err.Error(), "--to-revision") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("--all-charts warns about CRDs", func(t *testing.T) {
		cfg, ex := setup(t)
		for _, c := range []manifest.ChartRef{{ReleaseName: "tpe-data-controllers", Chart: "thingpark-data-controllers", Version: "1.2.4"}} {
			r, _ := lastRelease(cfg, c.ReleaseName)
			r.Info.Status = helmrelease.StatusSuperseded
			_ = cfg.Releases.Update(r)
			installRelease(t, cfg, c, 2, helmrelease.StatusDeployed)
		}
		p, err := (&Rollback{Action: cfg, Exec: ex, Namespace: ns, Matrix: m, AllCharts: true}).Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.OtherCharts) != 1 || p.OtherCharts[0].ToRevision != 1 || len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "CRD") {
			t.Errorf("plan: %+v", p)
		}
	})
}

func TestRunnerGuards(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		exec    func(*fakeExec)
		skip    bool
		wait    error
		fail    map[string]bool
		wantErr string
		wantTpe string
	}{
		{name: "backup tooling missing", exec: func(f *fakeExec) { f.noPod = true }, wantErr: "--skip-backup", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "backup fails", exec: func(f *fakeExec) { f.fail["backup"] = "bucket unreachable" }, wantErr: "bucket unreachable", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "--skip-backup", exec: func(f *fakeExec) { f.noPod = true }, skip: true, wantErr: "post-upgrade", wantTpe: "2:thingpark-enterprise-1.4.1"},
		{name: "PUM aborted", exec: func(f *fakeExec) { f.pumState = "ABORTED" }, wantErr: "ABORTED", wantTpe: "2:thingpark-enterprise-1.4.1"},
		{name: "wait fails", wait: errors.New("StatefulSet/mongo 0/3"), wantErr: "waiting for the workloads after tpe-data-controllers", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "chart 3 fails to render", fail: map[string]bool{"thingpark-application-controllers-1.2.4": true}, wantErr: "fixture.failRender", wantTpe: "1:thingpark-enterprise-1.2.25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newActionConfig(t)
			installAll(t, cfg, "v7.2.2c")
			kube := fake.NewClientset()
			ex := newFakeExec()
			if tt.exec != nil {
				tt.exec(ex)
			}
			r := newRunner(t, cfg, kube, ex)
			r.SkipBackup = tt.skip
			r.Charts = fakeCharts{failRender: tt.fail}
			if tt.wait != nil {
				r.Wait = func(context.Context, string, time.Duration) error { return tt.wait }
			}
			_, err := r.Run(ctx, plan(t, cfg, "v7.3.1"))
			var se *StepError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--resume") {
				t.Fatalf("err = %v, want a StepError with %q and the --resume command", err, tt.wantErr)
			}
			if got := revisions(t, cfg)["tpe"]; !strings.HasPrefix(got, tt.wantTpe) {
				t.Errorf("tpe = %s, want %s", got, tt.wantTpe)
			}
			if strings.Contains(err.Error(), "id-secret-1234") {
				t.Errorf("the error holds the ID: %v", err)
			}
		})
	}
}

func TestResumeUnlocksPendingRelease(t *testing.T) {
	cfg := newActionConfig(t)
	installAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	ex := newFakeExec()
	r := newRunner(t, cfg, kube, ex)
	r.SkipBackup = true
	r.StopAfter = "tpe-data"
	if _, err := r.Run(t.Context(), plan(t, cfg, "v7.3.1")); !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	// a Ctrl-C in the middle of chart 3 left it pending-upgrade
	installRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe-controllers", Chart: "thingpark-application-controllers", Version: "1.2.4"}, 2, helmrelease.StatusPendingUpgrade)
	r = newRunner(t, cfg, kube, ex)
	r.Resume = true
	if _, err := r.Run(t.Context(), &Plan{Target: "v7.3.1", Action: ActionUpgrade, Reachable: true}); err != nil {
		t.Fatal(err)
	}
	if got := revisions(t, cfg)["tpe-controllers"]; got != "3:thingpark-application-controllers-1.2.4:deployed" {
		t.Errorf("tpe-controllers = %s", got)
	}
}

func TestDryRunDiffsAndChangesNothing(t *testing.T) {
	cfg := newActionConfig(t)
	installAll(t, cfg, "v7.2.2c")
	before := revisions(t, cfg)
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, newFakeExec())
	diffs, err := r.DryRun(t.Context(), plan(t, cfg, "v7.3.1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 4 || diffs[3].ReleaseName != "tpe" || diffs[3].Changed != 2 {
		t.Fatalf("diffs: %+v", diffs)
	}
	if !strings.Contains(diffs[3].Diff, "+  version: 1.4.1") || strings.Contains(diffs[3].Diff, "pw-1.4.1") || !strings.Contains(diffs[3].Diff, "REDACTED") {
		t.Errorf("tpe diff:\n%s", diffs[3].Diff)
	}
	if after := revisions(t, cfg); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("dry run changed the releases: %v → %v", before, after)
	}
	for _, a := range kube.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" {
			t.Errorf("dry run made a %s request", a.GetVerb())
		}
	}
}

func TestControllerParsing(t *testing.T) {
	out := "List backups...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": [\n        \"thingpark-enterprise-backup-20220120091609\",\n        \"thingpark-enterprise-backup-20220121091609\"\n    ]\n}\n"
	if got := msgList(out); strings.Join(got, ",") != "thingpark-enterprise-backup-20220120091609,thingpark-enterprise-backup-20220121091609" {
		t.Errorf("msgList = %v", got)
	}
	if got := msgList("localhost ok: {\n    \"msg\": []\n}\n"); len(got) != 0 {
		t.Errorf("empty list: %v", got)
	}
	if got := ansibleFailure("x\nlocalhost failed: {\n    \"changed\": false,\n    \"msg\": \"Backup \\\"b\\\" not found\"\n}\n"); got != `Backup "b" not found` {
		t.Errorf("ansibleFailure = %q", got)
	}
	md, err := parseMetadata("n", "helm:\n    appVersion: 7.1.0\n    chart: thingpark-enterprise-1.0.2\n    releaseName: tpe\n    releaseNamespace: thingpark\n    revision: '7'\nid: thingpark-enterprise-backup-20220120091609\ntm: '2022-01-20T09:16:09Z'\ntype: on-demand")
	if err != nil || md.AppVersion != "7.1.0" || md.Chart != "thingpark-enterprise-1.0.2" || md.Revision != 7 || md.Name != "thingpark-enterprise-backup-20220120091609" {
		t.Errorf("parseMetadata = %+v %v", md, err)
	}
}

func TestRepoFetchIndex(t *testing.T) {
	const id = "installation-id-9876"
	index := "apiVersion: v1\nentries:\n" + func() string {
		var b strings.Builder
		r, _ := manifest.MustLoad().Resolve("v7.3.1")
		for _, c := range r.Charts() {
			fmt.Fprintf(&b, "  %s:\n  - name: %s\n    version: %s\n    apiVersion: v2\n    urls: [%s-%s.tgz]\n", c.Chart, c.Chart, c.Version, c.Chart, c.Version)
		}
		return b.String()
	}()
	mode := "ok"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		switch {
		case !ok || u != id || p != id:
			http.Error(w, "denied", http.StatusUnauthorized)
		case mode == "404":
			http.NotFound(w, r)
		case mode == "500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case mode == "truncated":
			_, _ = io.WriteString(w, index[:len(index)/2]+"\n  - name: [")
		default:
			_, _ = io.WriteString(w, index)
		}
	}))
	defer srv.Close()
	getters := getter.All(helmcli.New())
	dir := t.TempDir()
	tests := []struct {
		name, mode, id, kind string
		target               string
	}{
		{"ok", "ok", id, "", "v7.3.1"},
		{"wrong ID", "ok", "wrong-id-000000", "rejected", "v7.3.1"},
		{"404", "404", id, "not-found", "v7.3.1"},
		{"500", "500", id, "server", "v7.3.1"},
		{"truncated", "truncated", id, "invalid-index", "v7.3.1"},
		{"charts missing", "ok", id, "missing-charts", "v7.2.2c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode = tt.mode
			r := &Repo{Name: "actility", URL: srv.URL, ID: tt.id, RepoConfig: filepath.Join(dir, "repositories.yaml"), RepoCache: dir, Getters: getters}
			target, _ := manifest.MustLoad().Resolve(tt.target)
			err := r.CheckCharts(target)
			if tt.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RepoError
			if !errors.As(err, &re) || re.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %s", err, tt.kind)
			}
			if strings.Contains(err.Error(), tt.id) {
				t.Errorf("the error holds the ID: %v", err)
			}
			if tt.kind == "rejected" && !strings.Contains(err.Error(), "installation ID rejected") {
				t.Errorf("err = %v", err)
			}
		})
	}
	r := &Repo{Name: "actility", URL: srv.URL, ID: id, RepoConfig: filepath.Join(dir, "sub", "repositories.yaml"), RepoCache: dir, Getters: getters}
	if err := r.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRepo("actility", r.RepoConfig, dir, getters)
	if err != nil || got.ID != id || got.URL != srv.URL {
		t.Fatalf("LoadRepo = %+v, %v", got, err)
	}
	if _, err := LoadRepo("other", r.RepoConfig, dir, getters); err == nil || !strings.Contains(err.Error(), "helm tpe repo add") {
		t.Errorf("LoadRepo(other) = %v", err)
	}
}

func TestStepsOrder(t *testing.T) {
	cfg := newActionConfig(t)
	installAll(t, cfg, "v7.1.2")
	steps := Steps(plan(t, cfg, "v7.3.1"))
	var kinds []string
	for _, s := range steps {
		kinds = append(kinds, s.Kind+":"+s.ReleaseName)
	}
	// 1 backup + 3 hops × (4 charts + PUM)
	if len(steps) != 16 || steps[0].Kind != StepBackup || steps[5].Kind != StepPUM || steps[15].N != 16 {
		t.Errorf("steps: %v", kinds)
	}
	// hop 1 (7.1.2 → 7.1.3a) leaves data-controllers as is
	if steps[1].State != StateSkipped {
		t.Errorf("unchanged chart: %+v", steps[1])
	}
	sort.Strings(kinds)
}

func TestFailedStepMessageIsRedacted(t *testing.T) {
	cfg := newActionConfig(t)
	installAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, newFakeExec())
	r.SkipBackup = true
	// the chart's render error happens to print the secret
	r.Charts = fakeCharts{failRender: map[string]bool{"thingpark-data-controllers-1.2.4": true}}
	r.Secrets = []string{"fixture.failRender"}
	_, err := r.Run(t.Context(), plan(t, cfg, "v7.3.1"))
	if err == nil || strings.Contains(err.Error(), "fixture.failRender") {
		t.Fatalf("err = %v", err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(ns).Get(t.Context(), ProgressConfigMap, metav1.GetOptions{})
	if d := fmt.Sprint(cm.Data); strings.Contains(d, "fixture.failRender") || !strings.Contains(d, "****nder") {
		t.Errorf("progress ConfigMap: %s", d)
	}
}

func TestPlanPartlyUpgraded(t *testing.T) {
	m := manifest.MustLoad()
	old, _ := m.Get("v7.2.2c")
	target, _ := m.Get("v7.3.1")
	tests := []struct {
		name      string
		atTarget  int // the first N charts are at the target
		unchanged []string
	}{
		{"interrupted after chart 2", 2, []string{"tpe-data-controllers", "tpe-data"}},
		{"tpe rolled back alone", 3, []string{"tpe-data-controllers", "tpe-data", "tpe-controllers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newActionConfig(t)
			for i, c := range old.Charts() {
				if i < tt.atTarget {
					c = target.Charts()[i]
				}
				installRelease(t, cfg, c, 1, helmrelease.StatusDeployed)
			}
			p := plan(t, cfg, "v7.3.1")
			if p.Installed != "v7.2.2c" || len(p.Hops) != 1 || statusOf(p, "path.installed") != check.Warn {
				t.Fatalf("plan: installed %q hops %d %+v", p.Installed, len(p.Hops), p.Report.Checks)
			}
			var unchanged []string
			for _, c := range p.Hops[0].Charts {
				if c.Action == "unchanged" {
					unchanged = append(unchanged, c.ReleaseName)
				}
			}
			if strings.Join(unchanged, ",") != strings.Join(tt.unchanged, ",") {
				t.Errorf("unchanged = %v, want %v", unchanged, tt.unchanged)
			}
			// and the run upgrades only the others
			ex := newFakeExec()
			r := newRunner(t, cfg, fake.NewClientset(), ex)
			r.SkipBackup = true
			if _, err := r.Run(t.Context(), p); err != nil {
				t.Fatal(err)
			}
			got := revisions(t, cfg)
			for i, c := range target.Charts() {
				wantRev := "2:"
				if i < tt.atTarget {
					wantRev = "1:"
				}
				if want := wantRev + c.Chart + "-" + c.Version + ":deployed"; got[c.ReleaseName] != want {
					t.Errorf("%s = %s, want %s", c.ReleaseName, got[c.ReleaseName], want)
				}
			}
		})
	}
}

func TestCtrlCIsRecordedAsInterrupted(t *testing.T) {
	cfg := newActionConfig(t)
	installAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, newFakeExec())
	r.SkipBackup = true
	ctx, cancel := context.WithCancel(t.Context())
	// Ctrl-C while waiting after chart 2
	r.Wait = func(ctx context.Context, _ string, _ time.Duration) error {
		if n, _ := lastRelease(cfg, "tpe-data"); n != nil && n.Version == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	_, err := r.Run(ctx, plan(t, cfg, "v7.3.1"))
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	prog, err := ProgressStore{Kube: kube, Namespace: ns}.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := prog.Next()
	if prog.State != RunFailed || prog.Steps[i].ReleaseName != "tpe-data" || prog.Steps[i].State != StateInterrupted {
		t.Errorf("progress: %s, next step %+v", prog.State, prog.Steps[i])
	}
}
