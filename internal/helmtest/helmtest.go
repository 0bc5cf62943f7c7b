// Package helmtest holds the fakes the unit tests of the helm half share: Helm's memory storage,
// charts built in memory, releases stored as if installed, a fake dynamic client for CRDs, and a
// fake exec that plays the thingpark-enterprise-controller's backup tooling and the post-upgrade
// manager as the vendor's tools print.
package helmtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	authv1 "k8s.io/api/authorization/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/thingpark-tools/kubectl-tpe/internal/configrepo"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
)

// NS is the namespace of the fakes.
const NS = "thingpark-enterprise"

// NewActionConfig is a Helm action configuration on memory storage with a printing kube client.
func NewActionConfig(t *testing.T) *action.Configuration {
	t.Helper()
	mem := driver.NewMemory()
	mem.SetNamespace(NS)
	return &action.Configuration{Releases: storage.Init(mem), KubeClient: &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: chartutil.DefaultCapabilities, Log: func(string, ...any) {}}
}

// FakeCharts builds the charts of the matrix in memory. The thingpark-enterprise chart renders
// the post-upgrade manager (Deployment pum) as the vendor's does, unless NoPUM.
type FakeCharts struct {
	FailRender map[string]bool
	NoPUM      bool
}

// CheckCharts implements charts.Repository: every chart loads.
func (FakeCharts) CheckCharts(...manifest.Release) error { return nil }

// InstallationID implements charts.Repository: the fake repository has none of its own.
func (FakeCharts) InstallationID() string { return "" }

// pumTemplate is the post-upgrade manager of the fake thingpark-enterprise chart.
const pumTemplate = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: pum\nspec:\n  replicas: 1\n"

// LoadChart implements charts.Source.
func (f FakeCharts) LoadChart(name, version string) (*chart.Chart, error) {
	tpl := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-info\ndata:\n  chart: %s\n  version: %s\n", name, version)
	if f.FailRender[name+"-"+version] {
		tpl = `{{ fail "fixture.failRender" }}`
	}
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: version, AppVersion: "app-" + version},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(tpl)},
			{Name: "templates/secret.yaml", Data: []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-s\nstringData:\n  password: pw-" + version + "\n")}},
		Values: map[string]any{"global": map[string]any{"installationId": ""}, "known": map[string]any{"a": 1}},
	}
	if name == manifest.ChartEnterprise && !f.NoPUM {
		c.Templates = append(c.Templates, &chart.File{Name: "templates/pum.yaml", Data: []byte(pumTemplate)})
	}
	return c, nil
}

// InstallRelease stores a release of the chart reference, as if installed.
func InstallRelease(t *testing.T, cfg *action.Configuration, c manifest.ChartRef, rev int, status helmrelease.Status) {
	t.Helper()
	ch, _ := FakeCharts{}.LoadChart(c.Chart, c.Version)
	// The manifest Helm would have rendered from FakeCharts' templates.
	manifestText := fmt.Sprintf("---\n# Source: %[1]s/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[3]s-info\ndata:\n  chart: %[1]s\n  version: %[2]s\n"+
		"---\n# Source: %[1]s/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %[3]s-s\nstringData:\n  password: pw-%[2]s\n", c.Chart, c.Version, c.ReleaseName)
	if c.Chart == manifest.ChartEnterprise {
		manifestText += "---\n# Source: " + c.Chart + "/templates/pum.yaml\n" + pumTemplate
	}
	r := &helmrelease.Release{Name: c.ReleaseName, Namespace: NS, Version: rev, Chart: ch, Manifest: manifestText,
		Info: &helmrelease.Info{Status: status}, Config: map[string]any{"global": map[string]any{"installationId": "id-secret-1234"}}}
	if err := cfg.Releases.Create(r); err != nil {
		t.Fatal(err)
	}
}

// InstallAll stores the four releases of a TPE release.
func InstallAll(t *testing.T, cfg *action.Configuration, name string) {
	t.Helper()
	r, err := manifest.MustLoad().Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Charts() {
		InstallRelease(t, cfg, c, 1, helmrelease.StatusDeployed)
	}
}

// CRDResource is the CustomResourceDefinition resource.
var CRDResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// CRDObject is a CRD labelled with an operator version.
func CRDObject(name, version string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	u.SetName(name)
	if version != "" {
		u.SetLabels(map[string]string{"app.kubernetes.io/version": version})
	}
	return u
}

// NewDynamic is a fake dynamic client that lists CRDs.
func NewDynamic(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{CRDResource: "CustomResourceDefinitionList"}, objs...)
}

// PriorityClasses are PriorityClasses with the values the TPE cluster prerequisites give.
func PriorityClasses(names ...string) []runtime.Object {
	values := map[string]int32{"thingpark-datapath": 1000000, "thingpark-data-path": 1000000, "thingpark-data": 999800, "thingpark-others": 999500, "thingpark-other": 999500}
	var out []runtime.Object
	for _, n := range names {
		out = append(out, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: n}, Value: values[n]})
	}
	return out
}

// FakeExec plays the thingpark-enterprise-controller and the post-upgrade manager.
type FakeExec struct {
	Mu       sync.Mutex
	Backups  map[string]string // name → metadata YAML lines
	Order    []string
	Restores []string
	Stdins   []string
	Fail     map[string]string
	NoPod    bool
	PumState string
	Calls    []string
	// release is what `backup` records (Chart, appVersion, revision of tpe).
	Chart, App string
	Rev        int
	// Helm, when set, is where `backup` reads the installed tpe release instead (as the real
	// controller does), so that a multi-hop run's backups hold each hop's release.
	Helm *action.Configuration
}

// Exec implements podexec.Executor.
func (f *FakeExec) Exec(_ context.Context, t podexec.Target, cmd []string, stdin io.Reader) (podexec.Result, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Calls = append(f.Calls, t.Deployment+" "+strings.Join(cmd, " "))
	if f.NoPod {
		return podexec.Result{}, &podexec.NoReadyPodError{Target: t, Reason: "the deployment does not exist"}
	}
	if msg, ok := f.Fail[cmd[0]]; ok {
		return podexec.Result{Stdout: "localhost failed: {\n    \"changed\": false,\n    \"msg\": \"" + msg + "\"\n}\n"}, errors.New("command terminated with exit code 1")
	}
	switch cmd[0] {
	case "list-backups":
		var b strings.Builder
		b.WriteString("List backups...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": [")
		for i, n := range f.Order {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n        \"" + n + "\"")
		}
		b.WriteString("\n    ]\n}\n")
		return podexec.Result{Stdout: b.String()}, nil
	case "backup":
		name := fmt.Sprintf("thingpark-enterprise-backup-2023101108%04d", len(f.Order))
		if f.Helm != nil {
			if r, err := lastRelease(f.Helm, manifest.ReleaseEnterprise); err == nil && r != nil {
				f.Chart, f.App, f.Rev = r.Chart.Metadata.Name+"-"+r.Chart.Metadata.Version, r.Chart.Metadata.AppVersion, r.Version
			}
		}
		f.Backups[name] = fmt.Sprintf("helm:\n    appVersion: %s\n    chart: %s\n    releaseName: tpe\n    releaseNamespace: %s\n    revision: '%d'\nid: %s\ntm: '2023-10-11T08:12:40Z'\ntype: on-demand", f.App, f.Chart, NS, f.Rev, name)
		f.Order = append(f.Order, name)
		return podexec.Result{Stdout: "Backup data...\nlocalhost ok: {\n    \"changed\": false,\n    \"msg\": \"New backup " + name + " successfully pushed to remote storage\"\n}\n"}, nil
	case "get-backup-metadatas":
		name := strings.TrimPrefix(cmd[2], "backup_name=")
		md, ok := f.Backups[name]
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
		f.Stdins = append(f.Stdins, string(in))
		f.Restores = append(f.Restores, strings.TrimPrefix(cmd[2], "backup_name="))
		return podexec.Result{Stdout: "localhost ok: {\n    \"msg\": \"restored\"\n}\n"}, nil
	case "status":
		return podexec.Result{Stdout: "1 entrie(s)\nuid: 2\nrequestID: 'R-1'\nstate: '" + f.PumState + "'\nerrorCounter: 0\niterationCounter: 1\n"}, nil
	}
	return podexec.Result{}, fmt.Errorf("unknown command %v", cmd)
}

// NewFakeExec is a FakeExec with no backup and a processed post-upgrade status.
func NewFakeExec() *FakeExec {
	return &FakeExec{Backups: map[string]string{}, Fail: map[string]string{}, PumState: "PROCESSED"}
}

// Revisions is "revision:chart:status" of the last revision of each TPE release.
func Revisions(t *testing.T, cfg *action.Configuration) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range manifest.ReleaseNames {
		r, err := lastRelease(cfg, n)
		if err != nil || r == nil {
			continue
		}
		out[n] = fmt.Sprintf("%d:%s:%s", r.Version, r.Chart.Metadata.Name+"-"+r.Chart.Metadata.Version, r.Info.Status)
	}
	return out
}

func lastRelease(cfg *action.Configuration, name string) (*helmrelease.Release, error) {
	h, err := cfg.Releases.History(name)
	if err != nil || len(h) == 0 {
		return nil, err
	}
	last := h[0]
	for _, r := range h {
		if r.Version > last.Version {
			last = r
		}
	}
	return last, nil
}

// AllowAll answers every access review of kube with "allowed" (the fake clientset's reviews
// answer "denied"), so that the plan's permission check passes.
func AllowAll(kube *k8sfake.Clientset) {
	kube.PrependReactor("create", "selfsubjectrulesreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authv1.SelfSubjectRulesReview{Status: authv1.SubjectRulesReviewStatus{Incomplete: true}}, nil
	})
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authv1.SelfSubjectAccessReview)
		r.Status.Allowed = true
		return true, r, nil
	})
}

// FixtureCRDs returns the CRDs of a manifest of the fixture configuration repository
// (configrepo.Dir), with the Established condition when established; only, when given, keeps
// those names.
func FixtureCRDs(t testing.TB, file string, established bool, only ...string) []runtime.Object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(configrepo.Dir(), file))
	if err != nil {
		t.Fatal(err)
	}
	var out []runtime.Object
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var obj map[string]any
		if err := sigsyaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() != "CustomResourceDefinition" || (len(only) > 0 && !slices.Contains(only, u.GetName())) {
			continue
		}
		if established {
			_ = unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": "True"}}, "status", "conditions")
		}
		out = append(out, u)
	}
	return out
}
