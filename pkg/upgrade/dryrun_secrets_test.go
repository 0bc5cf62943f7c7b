package upgrade

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// spreadCharts are charts that copy the installation ID and the backup access key outside a
// Secret (a ConfigMap's data, an annotation), as some charts do; failQuoting makes them fail with
// a message that quotes the key.
type spreadCharts struct{ failQuoting bool }

const spreadTpl = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-spread
  annotations: {tpe/id: {{ .Values.global.installationId | quote }}}
data:
  version: {{ .Chart.Version | quote }}
  backup: "key={{ .Values.global.backup.amazon.accessKey }}"
---
apiVersion: v1
kind: Secret
metadata: {name: {{ .Release.Name }}-s}
data:
  accessKey: {{ .Values.global.backup.amazon.accessKey | b64enc }}
`

func (s spreadCharts) LoadChart(name, version string) (*chart.Chart, error) {
	tpl := spreadTpl
	if s.failQuoting {
		tpl = `{{ fail (printf "invalid backup configuration: %v" .Values.global.backup) }}`
	}
	return &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: version},
		Templates: []*chart.File{{Name: "templates/spread.yaml", Data: []byte(tpl)}}}, nil
}

func spreadValues(id, key string) map[string]any {
	return map[string]any{"global": map[string]any{"installationId": id,
		"backup": map[string]any{"amazon": map[string]any{"bucket": "b", "accessKey": key}}}}
}

func TestDryRunMasksSpreadSecrets(t *testing.T) {
	const id, oldKey, newKey = "id-secret-0123456789", "AKIA-OLD-KEY-0001", "AKIA-NEW-KEY-0002"
	tests := []struct {
		name        string
		charts      spreadCharts
		showSecrets bool
		wantErr     bool
		want, not   []string
	}{
		{name: "masked, the rotated key shows as a changed line", want: []string{
			`-  backup: "key=<redacted global.backup.amazon.accessKey #`, `+  backup: "key=<redacted global.backup.amazon.accessKey #`,
			`<redacted global.installationId #`, `accessKey: 'REDACTED # changed (17 bytes, was 17)'`, `+  version: "1.4.1"`},
			not: []string{id, oldKey, newKey}},
		{name: "--show-secrets", showSecrets: true, want: []string{"-  backup: \"key=" + oldKey, "+  backup: \"key=" + newKey, id}},
		{name: "a render error quoting the values", charts: spreadCharts{failQuoting: true}, wantErr: true,
			want: []string{"invalid backup configuration", "<redacted global.backup.amazon.accessKey #"}, not: []string{newKey, id}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := helmtest.NewActionConfig(t)
			m := manifest.MustLoad()
			from, _ := m.Resolve("v7.2.2c")
			for _, c := range from.Charts() {
				man := fmt.Sprintf("---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %[1]s-spread\n  annotations: {tpe/id: %[2]q}\ndata:\n  version: %[3]q\n  backup: \"key=%[4]s\"\n"+
					"---\napiVersion: v1\nkind: Secret\nmetadata: {name: %[1]s-s}\ndata:\n  accessKey: QUtJQS1PTEQtS0VZLTAwMDE=\n", c.ReleaseName, id, c.Version, oldKey)
				ch, _ := spreadCharts{}.LoadChart(c.Chart, c.Version)
				if err := cfg.Releases.Create(&helmrelease.Release{Name: c.ReleaseName, Namespace: helmtest.NS, Version: 1, Chart: ch, Manifest: man,
					Info: &helmrelease.Info{Status: helmrelease.StatusDeployed}, Config: spreadValues(id, oldKey)}); err != nil {
					t.Fatal(err)
				}
			}
			r := newRunner(t, cfg, fake.NewClientset(), helmtest.NewFakeExec())
			r.repo, r.vals, r.cfg.ShowSecrets = tt.charts, spreadValues(id, newKey), tt.showSecrets
			st, err := plan.LoadState(cfg, helmtest.NS, m)
			if err != nil {
				t.Fatal(err)
			}
			r.red = runRedactor("", r.vals, lastReleases(st))
			diffs, err := r.dryRun(t.Context(), planTo(t, cfg, "v7.3.1"))
			text := fmt.Sprint(err)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			for _, d := range diffs {
				text += fmt.Sprintf("%v\n%s", d.Objects, d.Diff)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing %q in:\n%s", w, text)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(text, n) {
					t.Errorf("%q shown in:\n%s", n, text)
				}
			}
		})
	}
}

// idRepo is a chart repository whose charts render its installation ID (as a chart may copy the
// repository's credentials into an image pull Secret's source ConfigMap).
type idRepo struct{ id string }

func (r idRepo) LoadChart(name, version string) (*chart.Chart, error) {
	tpl := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-pull}\ndata: {source: \"https://u:%s@repo\"}\n", r.id)
	return &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: version},
		Templates: []*chart.File{{Name: "templates/pull.yaml", Data: []byte(tpl)}}}, nil
}

func (idRepo) CheckCharts(...manifest.Release) error { return nil }
func (r idRepo) InstallationID() string              { return r.id }

// The installation ID of the repository (here in no values file, as after `helm tpe repo add`)
// has one tag in the whole run: the diff calls it "installation ID", as progress lines and errors
// do (it was "secret" in the diff: a second redactor).
func TestRunDryRunTagsTheInstallationIDOnce(t *testing.T) {
	const id = "repo-id-secret-0123456789"
	cfg := helmtest.NewActionConfig(t)
	kube := fake.NewClientset()
	helmtest.AllowAll(kube)
	m := manifest.MustLoad()
	to, _ := m.Resolve("v7.2.2c") // the release before the cluster-wide PriorityClasses
	var logs []string
	out, err := Run(t.Context(), Deps{Helm: cfg, Kube: kube, Exec: helmtest.NewFakeExec(),
		Charts: func(values.Values) (Repository, error) { return idRepo{id: id}, nil },
		Log:    func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }},
		Config{Verb: plan.ActionInstall, Namespace: helmtest.NS, Matrix: m, To: to, DryRun: true, Timeout: time.Minute})
	if err != nil {
		for _, c := range out.Plan.Blocking(false) {
			t.Log(c.ID, c.Message)
		}
		t.Fatal(err)
	}
	text := strings.Join(logs, "\n")
	for _, d := range out.Diffs {
		text += d.Diff
	}
	if strings.Contains(text, id) || !strings.Contains(text, "<redacted installation ID #") || strings.Contains(text, "<redacted secret") {
		t.Fatalf("the installation ID is not tagged \"installation ID\" in the diff:\n%s", text)
	}
}
