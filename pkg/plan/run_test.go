package plan

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// TestRunReadsWhatThePlanNeeds: plan.Run (the plan command's one call, and upgrade.Run's
// plan.Load) opens the charts only when there are values to check or NeedCharts asks, leaves the
// values unchecked (ChartsErr) when the charts cannot be opened, and refuses a chart directory
// without the target's charts.
func TestRunReadsWhatThePlanNeeds(t *testing.T) {
	m := manifest.MustLoad()
	from, _ := m.Resolve("v7.2.2c")
	to, _ := m.Resolve("v7.3.1")
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte("global:\n  installationId: abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreachable := errors.New("the repository does not answer")
	tests := []struct {
		name       string
		files      []string
		chartDir   string
		needCharts bool
		opened     bool
		wantErr    bool
		chartsErr  bool
		unused     bool
	}{
		{name: "no values: the charts are not opened"},
		{name: "values: the charts are opened, an error leaves the values unchecked", files: []string{valuesFile}, opened: true, chartsErr: true},
		{name: "a bundle without values is opened for its check, and must open", needCharts: true, opened: true, wantErr: true},
		{name: "a chart directory without values is not read", chartDir: t.TempDir(), unused: true},
		{name: "a chart directory without the target's charts is an error", files: []string{valuesFile}, chartDir: t.TempDir(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opened := false
			d := Deps{Charts: func(v values.Values) (charts.Source, error) {
				opened = true
				if len(tt.files) > 0 && v.InstallationID() != "abc" {
					t.Errorf("the charts are opened before the values are loaded: %v", v)
				}
				return nil, unreachable
			}}
			out, err := Run(t.Context(), d, Config{Namespace: "tpe", Matrix: m, To: to, From: &from, ValueFiles: tt.files,
				ChartDir: tt.chartDir, NeedCharts: tt.needCharts})
			if opened != tt.opened {
				t.Errorf("charts opened = %v, want %v", opened, tt.opened)
			}
			var cde *ChartDirError
			switch {
			case tt.wantErr && err == nil, !tt.wantErr && err != nil:
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			case tt.wantErr && tt.chartDir != "" && !errors.As(err, &cde):
				t.Fatalf("err = %v, want a ChartDirError", err)
			case tt.wantErr:
				return
			}
			if (out.ChartsErr != nil) != tt.chartsErr || out.ChartDirUnused != tt.unused {
				t.Errorf("ChartsErr %v, ChartDirUnused %v", out.ChartsErr, out.ChartDirUnused)
			}
			if out.Plan == nil || !out.Plan.Offline || out.Plan.Installed != "v7.2.2c" || out.Plan.Namespace != "tpe" {
				t.Errorf("plan: %+v", out.Plan)
			}
		})
	}
}
