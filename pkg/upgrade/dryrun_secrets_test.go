package upgrade

import (
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
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
			r.Charts, r.Values, r.ShowSecrets = tt.charts, spreadValues(id, newKey), tt.showSecrets
			diffs, err := r.DryRun(t.Context(), planTo(t, cfg, "v7.3.1"))
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
