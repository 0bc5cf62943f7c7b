package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/backup"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
)

// installCharts stores the four charts: the first atTarget ones of target, the others of from.
func installCharts(t *testing.T, cfg *action.Configuration, from, target string, atTarget int) {
	t.Helper()
	m := manifest.MustLoad()
	f, _ := m.Resolve(from)
	to, _ := m.Resolve(target)
	for i, c := range f.Charts() {
		if i < atTarget {
			c = to.Charts()[i]
		}
		helmtest.InstallRelease(t, cfg, c, 1, helmrelease.StatusDeployed)
	}
}

func TestStepsBackupBeforeEveryHopThatUpgradesTpe(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(*testing.T, *action.Configuration)
		target  string
		plan    *plan.Plan // instead of setup+target
		want    string     // kind@hop of every step, "-" marks a skipped one
		backups string     // HopFrom of each backup step
	}{
		{name: "fresh install: a backup step that takes none (no data yet)", setup: func(*testing.T, *action.Configuration) {}, target: "v7.2.2c",
			want: "backup@1 chart@1 chart@1 chart@1 chart@1 post-upgrade@1"},
		{name: "one hop", setup: func(t *testing.T, c *action.Configuration) { helmtest.InstallAll(t, c, "v7.2.2c") }, target: "v7.3.1",
			want: "backup@1 chart@1 chart@1 chart@1 chart@1 post-upgrade@1", backups: "v7.2.2c"},
		{name: "two hops: a backup before each", setup: func(t *testing.T, c *action.Configuration) { helmtest.InstallAll(t, c, "v7.1.3a") }, target: "v7.3.1",
			want:    "backup@1 chart@1 chart@1 chart@1 chart@1 post-upgrade@1 backup@2 chart@2 chart@2 chart@2 chart@2 post-upgrade@2",
			backups: "v7.1.3a v7.2.2c"},
		{name: "three hops, the first leaves chart 1 as it is", setup: func(t *testing.T, c *action.Configuration) { helmtest.InstallAll(t, c, "v7.1.2") }, target: "v7.3.1",
			want:    "backup@1 chart@1- chart@1 chart@1 chart@1 post-upgrade@1 backup@2 chart@2 chart@2 chart@2 chart@2 post-upgrade@2 backup@3 chart@3 chart@3 chart@3 chart@3 post-upgrade@3",
			backups: "v7.1.2a v7.1.3a v7.2.2c"}, // v7.1.2 has the charts of v7.1.2a
		{name: "tpe rolled back alone: charts 1–3 stay, tpe is upgraded after a backup", setup: func(t *testing.T, c *action.Configuration) { installCharts(t, c, "v7.2.2c", "v7.3.1", 3) },
			target: "v7.3.1", want: "backup@1 chart@1- chart@1- chart@1- chart@1 post-upgrade@1", backups: "v7.2.2c"},
		{name: "a hop that leaves tpe as it is takes no backup", plan: &plan.Plan{Action: plan.ActionUpgrade, Hops: []plan.Hop{{N: 1, From: "a", To: "b", Charts: []plan.ChartChange{
			{ReleaseName: "tpe-data", Chart: "thingpark-data", Version: "2", Action: plan.ActionUpgrade},
			{ReleaseName: "tpe", Chart: "thingpark-enterprise", Version: "1", Action: plan.ActionUnchanged}}}}},
			want: "chart@1 chart@1- post-upgrade@1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.plan
			if p == nil {
				cfg := helmtest.NewActionConfig(t)
				tt.setup(t, cfg)
				p = planTo(t, cfg, tt.target)
			}
			steps := Steps(p)
			var got, froms []string
			for i, s := range steps {
				k := fmt.Sprintf("%s@%d", s.Kind, s.Hop)
				if s.State == StateSkipped {
					k += "-"
				}
				got = append(got, k)
				if s.Kind == StepBackup && s.HopFrom != "" {
					froms = append(froms, s.HopFrom)
				}
				if s.N != i+1 {
					t.Errorf("step %d is numbered %d", i+1, s.N)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("steps:\n got %s\nwant %s", strings.Join(got, " "), tt.want)
			}
			if strings.Join(froms, " ") != tt.backups {
				t.Errorf("backups of %q, want %q", strings.Join(froms, " "), tt.backups)
			}
			if tt.backups != "" && tt.plan == nil {
				if c, ok := p.Report.Find("backup.hops"); !ok || !strings.Contains(c.Message, "before hop 1") {
					t.Errorf("the plan does not say before which hops a backup is taken: %+v", c)
				}
			}
		})
	}
}

// failNth fails the nth call (1-based) of one command of the backup tooling.
type failNth struct {
	inner podexec.Executor
	cmd   string
	n     int
	calls int
}

func (f *failNth) Exec(ctx context.Context, t podexec.Target, cmd []string, stdin io.Reader) (podexec.Result, error) {
	if cmd[0] == f.cmd {
		f.calls++
		if f.calls == f.n {
			return podexec.Result{}, errors.New("connection reset by peer")
		}
	}
	return f.inner.Exec(ctx, t, cmd, stdin)
}

// abortOnce makes the post-upgrade verdict of the hop to tpe chart version fail once.
func abortOnce(cfg *action.Configuration, ex *helmtest.FakeExec, version string) func(context.Context, string) (*pum.Status, error) {
	done := false
	return func(ctx context.Context, ns string) (*pum.Status, error) {
		if r, _ := plan.LastRelease(cfg, manifest.ReleaseEnterprise); !done && r.Chart.Metadata.Version == version {
			done = true
			return &pum.Status{Verdict: pum.Failed, Entries: []pum.Entry{{RequestID: "RDTP-1", State: pum.StateAborted}}}, nil
		}
		return pum.Get(ctx, ex, ns)
	}
}

func TestMultiHopRunBackupsAndResume(t *testing.T) {
	tests := []struct {
		name string
		// stop makes the first run stop; the second resumes it
		stop        func(*runner, *action.Configuration, *helmtest.FakeExec)
		wantStopped string // label of the step the first run stopped at
		wantFirst   int    // backups taken by the first run
		wantHint    string // the rollback the error proposes ("" none)
	}{
		{name: "no failure", wantFirst: 2},
		{name: "interrupted in hop 1 after its backup", wantStopped: "tpe-controllers", wantFirst: 1,
			stop: func(r *runner, _ *action.Configuration, _ *helmtest.FakeExec) { r.d.AfterStep = StopAfter("tpe-data") }},
		{name: "post-upgrade procedure of hop 2 aborted", wantStopped: "post-upgrade procedure of v7.3.1", wantFirst: 2,
			wantHint: "or roll back to v7.2.2c with `{cmd:rollback}`, which restores thingpark-enterprise-backup-20231011080001 (before hop 2, v7.2.2c → v7.3.1)",
			stop: func(r *runner, cfg *action.Configuration, ex *helmtest.FakeExec) {
				r.d.PUM = abortOnce(cfg, ex, "1.4.1")
			}},
		{name: "hop 2's backup taken, its check failed", wantStopped: "upgrade backup of v7.2.2c (before hop 2)", wantFirst: 2,
			stop: func(r *runner, _ *action.Configuration, ex *helmtest.FakeExec) {
				r.d.Exec = &failNth{inner: ex, cmd: "list-backups", n: 4} // hop 1 before/after, hop 2 before, *after*
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			cfg := helmtest.NewActionConfig(t)
			helmtest.InstallAll(t, cfg, "v7.1.3a")
			kube := fake.NewClientset()
			ex := helmtest.NewFakeExec()
			ex.Helm = cfg
			r := newRunner(t, cfg, kube, ex)
			if tt.stop != nil {
				tt.stop(r, cfg, ex)
			}
			res, err := runWith(ctx, r, planTo(t, cfg, "v7.3.1"), false)
			if len(ex.Order) != tt.wantFirst {
				t.Fatalf("first run took %d backups (%v), want %d", len(ex.Order), ex.Order, tt.wantFirst)
			}
			store := Store{Kube: kube, Namespace: helmtest.NS}
			if tt.wantStopped != "" {
				if err == nil {
					t.Fatal("the first run did not stop")
				}
				rec, _ := store.Load(ctx)
				if at := rec.FailedHop(); at == nil || !strings.Contains(at.Label(), tt.wantStopped) {
					t.Fatalf("stopped at %+v, want %s (err %v)", at, tt.wantStopped, err)
				}
				if tt.wantHint != "" && !strings.Contains(err.Error(), tt.wantHint) || tt.wantHint == "" && strings.Contains(err.Error(), "rollback") {
					t.Errorf("err = %v, want the hint %q", err, tt.wantHint)
				}
				if len(rec.Backups) != tt.wantFirst || rec.Backup != ex.Order[len(ex.Order)-1] {
					t.Fatalf("record after the stop: backup %q, backups %+v; taken %v", rec.Backup, rec.Backups, ex.Order)
				}
				res, err = runWith(ctx, newRunner(t, cfg, kube, ex), &plan.Plan{Target: "v7.3.1", Action: plan.ActionUpgrade, Reachable: true}, true)
			}
			if err != nil {
				t.Fatal(err)
			}
			// one backup per hop, never a second one for a hop, each of its hop's start release
			if len(ex.Order) != 2 {
				t.Fatalf("backups taken: %v, want one per hop", ex.Order)
			}
			wantFrom := []string{"v7.1.3a", "v7.2.2c"}
			wantChart := []string{"thingpark-enterprise-1.1.7", "thingpark-enterprise-1.2.25"}
			if len(res.Backups) != 2 || res.Backup != ex.Order[1] {
				t.Fatalf("result backups %+v, latest %q", res.Backups, res.Backup)
			}
			for i, b := range res.Backups {
				md, err := backup.Controller{Exec: ex, Namespace: helmtest.NS}.Metadata(ctx, b.Name)
				if err != nil {
					t.Fatal(err)
				}
				if b.Hop != i+1 || b.From != wantFrom[i] || b.Name != ex.Order[i] || md.Chart != wantChart[i] {
					t.Errorf("backup %d: %+v with chart %s, want hop %d from %s with %s", i, b, md.Chart, i+1, wantFrom[i], wantChart[i])
				}
			}
			if got := helmtest.Revisions(t, cfg)["tpe"]; !strings.Contains(got, "thingpark-enterprise-1.4.1:deployed") {
				t.Errorf("tpe = %s", got)
			}
		})
	}
}

func TestResumeLegacyRecordKeepsItsBackup(t *testing.T) {
	// A record written before the runs took one backup per hop: one backup step (hop 0) taken,
	// the run stopped after it.
	ctx := t.Context()
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	ex := helmtest.NewFakeExec()
	name, err := backup.Controller{Exec: ex, Namespace: helmtest.NS}.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	steps := Steps(planTo(t, cfg, "v7.3.1"))
	steps[0].Hop, steps[0].HopFrom, steps[0].HopTo, steps[0].State = 0, "", "", StateFailed
	store := Store{Kube: kube, Namespace: helmtest.NS}
	if err := store.Save(ctx, &Record{Action: plan.ActionUpgrade, From: "v7.2.2c", Target: "v7.3.1", State: RunFailed, Backup: name, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	res, err := runWith(ctx, newRunner(t, cfg, kube, ex), &plan.Plan{Target: "v7.3.1", Action: plan.ActionUpgrade, Reachable: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Order) != 1 || res.Backup != name {
		t.Errorf("backups %v, result backup %q; want only %s", ex.Order, res.Backup, name)
	}
}
