package rollback

import (
	"context"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// failedInHop2 runs v7.1.3a → v7.3.1 with a failure in hop 2: after tpe (the post-upgrade
// procedure of 7.3.1 aborts) or before it (chart 2 of 7.3.1 does not render).
func failedInHop2(t *testing.T, afterTpe bool) (*action.Configuration, *fake.Clientset, *helmtest.FakeExec) {
	t.Helper()
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.1.3a")
	kube := newKube()
	ex := helmtest.NewFakeExec()
	ex.Helm = cfg
	hook := func(d *upgrade.Deps) {
		d.Charts = func(values.Values) (upgrade.Repository, error) {
			return helmtest.FakeCharts{FailRender: map[string]bool{"thingpark-data-1.3.5": true}}, nil
		}
	}
	if afterTpe {
		hook = func(d *upgrade.Deps) {
			d.PUM = func(ctx context.Context, ns string) (*pum.Status, error) {
				if last, _ := plan.LastRelease(cfg, manifest.ReleaseEnterprise); last.Chart.Metadata.Version == "1.4.1" {
					return &pum.Status{Verdict: pum.Failed, Entries: []pum.Entry{{RequestID: "RDTP-1", State: pum.StateAborted}}}, nil
				}
				return pum.Get(ctx, ex, ns)
			}
		}
	}
	if _, err := upgradeTo(t, cfg, kube, ex, "v7.3.1", false, hook); err == nil {
		t.Fatal("the run did not fail")
	}
	if len(ex.Order) != 2 {
		t.Fatalf("backups: %v, want one per hop", ex.Order)
	}
	return cfg, kube, ex
}

func TestRollbackAfterAFailedHop(t *testing.T) {
	tests := []struct {
		name        string
		afterTpe    bool
		backup      func(*helmtest.FakeExec) string // --backup
		wantTo      string
		wantBackup  int // index in the backups taken
		wantReason  []string
		wantWarning string
		wantErr     string
	}{
		{name: "hop 2 failed after tpe: hop 2's backup", afterTpe: true, wantTo: "v7.2.2c", wantBackup: 1,
			wantReason: []string{"failed in hop 2", "post-upgrade procedure of v7.3.1", "taken before hop 2 (v7.2.2c → v7.3.1)", "holds the data of v7.2.2c", "(taken before hop 1: it holds the data of v7.1.3a)"}},
		{name: "hop 2 failed before tpe: tpe goes back to hop 1's start, with a warning", wantTo: "v7.1.3a", wantBackup: 0,
			wantReason: []string{"failed in hop 2", "taken before hop 1 (v7.1.3a → v7.2.2c)"}, wantWarning: "stopped in hop 2 (step 9, tpe-data thingpark-data 1.3.5) before tpe was upgraded: tpe still runs v7.2.2c"},
		{name: "--backup overrides with the matching backup", afterTpe: true, backup: func(ex *helmtest.FakeExec) string { return ex.Order[1] }, wantTo: "v7.2.2c", wantBackup: 1},
		{name: "--backup of the wrong hop is refused", afterTpe: true, backup: func(ex *helmtest.FakeExec) string { return ex.Order[0] },
			wantErr: "does not match revision 2 of tpe: its chart is thingpark-enterprise-1.1.7, revision 2 is thingpark-enterprise-1.2.25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, kube, ex := failedInHop2(t, tt.afterTpe)
			c := Config{}
			if tt.backup != nil {
				c.Backup = tt.backup(ex)
			}
			p, err := rollbackPlan(t, cfg, kube, ex, c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ToRelease != tt.wantTo || p.Backup.Name != ex.Order[tt.wantBackup] {
				t.Fatalf("rollback to %s with %s, want %s with %s", p.ToRelease, p.Backup.Name, tt.wantTo, ex.Order[tt.wantBackup])
			}
			for _, w := range tt.wantReason {
				if !strings.Contains(p.BackupReason, w) {
					t.Errorf("the reason does not say %q: %s", w, p.BackupReason)
				}
			}
			if got := strings.Join(p.Warnings, "\n"); tt.wantWarning == "" && got != "" || !strings.Contains(got, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", got, tt.wantWarning)
			}
		})
	}
}

func TestRollbackEndsTheRunAndAFreshRunUpgradesAgain(t *testing.T) {
	ctx := t.Context()
	cfg, kube, ex := failedInHop2(t, true)
	store := &upgrade.Store{Kube: kube, Namespace: helmtest.NS}
	if out, err := rollbackWith(t, cfg, kube, ex, Config{}); err != nil || !out.Result.Restored || len(ex.Restores) != 1 || ex.Restores[0] != ex.Order[1] {
		t.Fatalf("rollback: %+v %v, restores %v", out, err, ex.Restores)
	}
	rec, _ := store.Load(ctx)
	if rec.State != upgrade.RunRolledBack || rec.RolledBackTo != "v7.2.2c" || rec.Unfinished() {
		t.Fatalf("record after the rollback: %s to %q", rec.State, rec.RolledBackTo)
	}
	// charts 1–3 stay at 7.3.1; a new run (no --resume) upgrades tpe alone, after its own backup
	res, err := upgradeTo(t, cfg, kube, ex, "v7.3.1", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Order) != 3 || len(res.Backups) != 1 || res.Backups[0].From != "v7.2.2c" || res.Backup != ex.Order[2] {
		t.Errorf("backups %v, result %+v", ex.Order, res.Backups)
	}
	if got := helmtest.Revisions(t, cfg); got["tpe"] != "5:thingpark-enterprise-1.4.1:deployed" || got["tpe-data"] != "3:thingpark-data-1.3.5:deployed" {
		t.Errorf("after the new run: %v", got)
	}
}
