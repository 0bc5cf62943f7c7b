package rollback

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/backup"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// newKube is the fake cluster of an upgrade: every permission allowed, the PriorityClasses 7.3
// needs created.
func newKube() *fake.Clientset {
	kube := fake.NewClientset(helmtest.PriorityClasses("thingpark-datapath", "thingpark-data", "thingpark-others")...)
	helmtest.AllowAll(kube)
	return kube
}

// upgradeTo runs `helm tpe install|upgrade --to target -f values.yaml --yes --ack-admin-steps`
// (upgrade.Run) on the fakes; hook sets more Deps (a failing PUM, a step hook).
func upgradeTo(t *testing.T, cfg *action.Configuration, kube *fake.Clientset, ex *helmtest.FakeExec, target string, resume bool, hook func(*upgrade.Deps)) (*upgrade.Result, error) {
	t.Helper()
	vf := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(vf, []byte("global:\n  installationId: id-secret-1234\n  backup:\n    amazon: {bucket: b, region: eu-west-1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := manifest.MustLoad()
	to, _ := m.Resolve(target)
	verb := plan.ActionUpgrade
	if last, _ := plan.LastRelease(cfg, manifest.ReleaseEnterprise); last == nil {
		verb = plan.ActionInstall
	}
	d := upgrade.Deps{Helm: cfg, Kube: kube, Exec: ex,
		Charts: func(values.Values) (upgrade.Repository, error) { return helmtest.FakeCharts{}, nil },
		Wait:   func(context.Context, string, time.Duration) error { return nil },
		PUM:    func(ctx context.Context, n string) (*pum.Status, error) { return pum.Get(ctx, ex, n) },
		Log:    func(format string, a ...any) { t.Logf(format, a...) }}
	if hook != nil {
		hook(&d)
	}
	out, err := upgrade.Run(t.Context(), d, upgrade.Config{Verb: verb, Namespace: helmtest.NS, Matrix: m, To: to, ValueFiles: []string{vf},
		Resume: resume, AckAdminSteps: true, Timeout: time.Minute,
		RetryCommand: func(target string) string { return "helm tpe upgrade --to " + target + " -f v.yaml" }})
	if out == nil || out.Result == nil {
		return nil, err
	}
	return out.Result, err
}

// rollbackWith runs the rollback use case on the fakes, without prompts: the restore is
// confirmed (unless c.DryRun).
func rollbackWith(t *testing.T, cfg *action.Configuration, kube *fake.Clientset, ex *helmtest.FakeExec, c Config) (*Outcome, error) {
	t.Helper()
	c.Namespace, c.Matrix, c.Timeout = helmtest.NS, manifest.MustLoad(), time.Minute
	if kube == nil {
		kube = fake.NewClientset()
	}
	return Run(t.Context(), Deps{Helm: cfg, Kube: kube, Exec: ex,
		Wait:           func(context.Context, string, time.Duration) error { return nil },
		ConfirmRestore: func(string) (bool, error) { return true, nil },
		Log:            func(format string, a ...any) { t.Logf(format, a...) }}, c)
}

// rollbackPlan is the plan of a rollback (as --dry-run shows it).
func rollbackPlan(t *testing.T, cfg *action.Configuration, kube *fake.Clientset, ex *helmtest.FakeExec, c Config) (*Plan, error) {
	t.Helper()
	c.DryRun = true
	out, err := rollbackWith(t, cfg, kube, ex, c)
	if err != nil {
		return nil, err
	}
	return out.Plan, nil
}

func TestRunnerInstallUpgradeResumeRerunRollback(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	kube := newKube()
	ex := helmtest.NewFakeExec()
	ctx := t.Context()

	// fresh install of 7.2.2c: the backup is skipped (no controller yet)
	res, err := upgradeTo(t, cfg, kube, ex, "v7.2.2c", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != upgrade.RunDone || !res.Changed || res.Steps[0].State != upgrade.StateSkipped || !strings.Contains(res.Steps[0].Message, "fresh install") {
		t.Fatalf("install: %+v", res)
	}
	want := map[string]string{"tpe-data-controllers": "1:thingpark-data-controllers-1.1.1:deployed", "tpe-data": "1:thingpark-data-1.2.5:deployed",
		"tpe-controllers": "1:thingpark-application-controllers-1.1.6:deployed", "tpe": "1:thingpark-enterprise-1.2.25:deployed"}
	if got := helmtest.Revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after install: %v", got)
	}

	// upgrade to 7.3.1, interrupted after the second chart
	ex.Chart, ex.App, ex.Rev = "thingpark-enterprise-1.2.25", "app-1.2.25", 1
	_, err = upgradeTo(t, cfg, kube, ex, "v7.3.1", false, func(d *upgrade.Deps) { d.AfterStep = upgrade.StopAfter("tpe-data") })
	var se *upgrade.StepError
	if !errors.As(err, &se) || !errors.Is(err, upgrade.ErrInterrupted) || !strings.Contains(se.Next, "{flag:resume}") {
		t.Fatalf("interrupted run: %v", err)
	}
	store := upgrade.Store{Kube: kube, Namespace: helmtest.NS}
	prog, err := store.Load(ctx)
	if err != nil || prog.State != upgrade.RunFailed || prog.Backup == "" || prog.Steps[prog.Next()].ReleaseName != "tpe-controllers" {
		t.Fatalf("progress after interruption: %+v, %v", prog, err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(helmtest.NS).Get(ctx, upgrade.ConfigMap, metav1.GetOptions{})
	if s := fmt.Sprint(cm.Data); strings.Contains(s, "id-secret-1234") {
		t.Fatalf("the progress ConfigMap holds the installation ID: %s", s)
	}

	// a run without --resume refuses; with --resume it continues where it stopped
	if _, err := upgradeTo(t, cfg, kube, ex, "v7.3.1", false, nil); err == nil || !strings.Contains(err.Error(), "{flag:resume}") {
		t.Fatalf("rerun without --resume: %v", err)
	}
	_, err = upgradeTo(t, cfg, kube, ex, "v7.3.1", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"tpe-data-controllers": "2:thingpark-data-controllers-1.2.4:deployed", "tpe-data": "2:thingpark-data-1.3.5:deployed",
		"tpe-controllers": "2:thingpark-application-controllers-1.2.4:deployed", "tpe": "2:thingpark-enterprise-1.4.1:deployed"}
	if got := helmtest.Revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after resume: %v", got)
	}
	if len(ex.Order) != 1 {
		t.Errorf("backups taken: %v, want exactly one", ex.Order)
	}

	// a finished upgrade run again changes nothing
	res, err = upgradeTo(t, cfg, kube, ex, "v7.3.1", false, nil)
	if err != nil || res.Changed {
		t.Fatalf("rerun: %+v %v", res, err)
	}
	if got := helmtest.Revisions(t, cfg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rerun changed releases: %v", got)
	}

	// rollback: the upgrade backup matches revision 1 of tpe
	rout, err := rollbackWith(t, cfg, kube, ex, Config{})
	if err != nil || !rout.Result.Restored {
		t.Fatalf("rollback: %+v %v", rout, err)
	}
	if rp := rout.Plan; rp.ToRevision != 1 || rp.ToRelease != "v7.2.2c" || rp.Backup.Name != prog.Backup || rp.BackupSource == "" {
		t.Fatalf("rollback plan: %+v", rp)
	}
	if got := helmtest.Revisions(t, cfg)["tpe"]; got != "3:thingpark-enterprise-1.2.25:deployed" {
		t.Errorf("tpe after rollback: %s", got)
	}
	if len(ex.Restores) != 1 || ex.Restores[0] != prog.Backup || ex.Stdins[0] != "yes\n" {
		t.Errorf("restores %v stdin %q", ex.Restores, ex.Stdins)
	}
	if got := helmtest.Revisions(t, cfg)["tpe-data"]; !strings.HasPrefix(got, "2:") {
		t.Errorf("tpe-data must not be rolled back without --all-charts: %s", got)
	}
}

func TestRollbackRefusals(t *testing.T) {
	ctx := t.Context()
	setup := func(t *testing.T) (*action.Configuration, *helmtest.FakeExec) {
		cfg := helmtest.NewActionConfig(t)
		helmtest.InstallAll(t, cfg, "v7.2.2c")
		// tpe revision 1 is 7.2.2c, revision 2 an unknown chart
		r, _ := plan.LastRelease(cfg, "tpe")
		r.Info.Status = helmrelease.StatusSuperseded
		_ = cfg.Releases.Update(r)
		helmtest.InstallRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "1.4.1"}, 2, helmrelease.StatusDeployed)
		ex := helmtest.NewFakeExec()
		ex.Chart, ex.App, ex.Rev = "thingpark-enterprise-1.2.25", "app-1.2.25", 1
		_, _ = backup.Controller{Exec: ex, Namespace: helmtest.NS}.Backup(ctx)
		ex.Chart, ex.App = "thingpark-enterprise-1.4.1", "app-1.4.1"
		_, _ = backup.Controller{Exec: ex, Namespace: helmtest.NS}.Backup(ctx) // newest, wrong chart for revision 1
		return cfg, ex
	}
	t.Run("finds the matching backup, not the newest", func(t *testing.T) {
		cfg, ex := setup(t)
		p, err := rollbackPlan(t, cfg, nil, ex, Config{})
		if err != nil || p.Backup.Name != ex.Order[0] {
			t.Fatalf("plan %+v %v", p, err)
		}
	})
	t.Run("--backup that does not match", func(t *testing.T) {
		cfg, ex := setup(t)
		_, err := rollbackPlan(t, cfg, nil, ex, Config{Backup: ex.Order[1]})
		if err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown revision needs --to-revision", func(t *testing.T) {
		cfg := helmtest.NewActionConfig(t)
		helmtest.InstallRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "0.0.1"}, 1, helmrelease.StatusSuperseded)
		helmtest.InstallRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "1.2.25"}, 2, helmrelease.StatusDeployed)
		_, err := rollbackPlan(t, cfg, nil, helmtest.NewFakeExec(), Config{})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != FieldToRevision || !ie.Needed {
			t.Fatalf("err = %v, want an *InputError needing ToRevision", err)
		}
		// The command words it with its flag.
		if got := ie.Word("--to-revision"); !strings.HasSuffix(got, "matches no known TPE release: pass --to-revision to roll back to it anyway") {
			t.Errorf("worded = %q", got)
		}
	})
	t.Run("--all-charts warns about CRDs", func(t *testing.T) {
		cfg, ex := setup(t)
		for _, c := range []manifest.ChartRef{{ReleaseName: "tpe-data-controllers", Chart: "thingpark-data-controllers", Version: "1.2.4"}} {
			r, _ := plan.LastRelease(cfg, c.ReleaseName)
			r.Info.Status = helmrelease.StatusSuperseded
			_ = cfg.Releases.Update(r)
			helmtest.InstallRelease(t, cfg, c, 2, helmrelease.StatusDeployed)
		}
		p, err := rollbackPlan(t, cfg, nil, ex, Config{AllCharts: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.OtherCharts) != 1 || p.OtherCharts[0].ToRevision != 1 || len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "CRD") {
			t.Errorf("plan: %+v", p)
		}
	})
}
