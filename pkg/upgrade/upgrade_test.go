package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/thingpark-tools/kubectl-tpe/internal/helmtest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// runWith runs p as the entry point does: with the record found in the namespace.
func runWith(ctx context.Context, r *runner, p *plan.Plan, resume bool) (*Result, error) {
	rec, err := (&Store{Kube: r.d.Kube, Namespace: r.cfg.Namespace}).Load(ctx)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, p, rec, resume)
}

func hasStatus(p *plan.Plan, id string, want check.Status) bool {
	c, ok := p.Report.Find(id)
	return ok && c.Status == want
}

// newRunner is the runner Run would make for a run to v7.3.1 with --yes, without the plan's guards.
func newRunner(t *testing.T, cfg *action.Configuration, kube *fake.Clientset, ex *helmtest.FakeExec) *runner {
	vals := values.Values{"global": map[string]any{"installationId": "id-secret-1234"}}
	return &runner{
		d: Deps{Helm: cfg, Kube: kube, Exec: ex,
			Wait: func(context.Context, string, time.Duration) error { return nil },
			PUM: func(ctx context.Context, n string) (*pum.Status, error) {
				return pum.Get(ctx, ex, n)
			},
			Log: func(format string, a ...any) { t.Logf(format, a...) }},
		cfg:   Config{Namespace: helmtest.NS, ValueFiles: []string{"v.yaml"}, Timeout: time.Minute},
		repo:  helmtest.FakeCharts{},
		vals:  vals,
		red:   runRedactor("", vals, nil),
		retry: "helm tpe upgrade --to v7.3.1 -f v.yaml",
		store: &Store{Kube: kube, Namespace: helmtest.NS},
	}
}

func planTo(t *testing.T, cfg *action.Configuration, target string) *plan.Plan {
	t.Helper()
	m := manifest.MustLoad()
	st, err := plan.LoadState(cfg, helmtest.NS, m)
	if err != nil {
		t.Fatal(err)
	}
	to, _ := m.Resolve(target)
	return plan.New(t.Context(), plan.Input{Matrix: m, State: st, To: to})
}

func TestRunnerGuards(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name    string
		exec    func(*helmtest.FakeExec)
		skip    bool
		wait    error
		fail    map[string]bool
		wantErr string
		wantTpe string
	}{
		{name: "backup tooling missing", exec: func(f *helmtest.FakeExec) { f.NoPod = true }, wantErr: "{flag:skip-backup}", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "backup fails", exec: func(f *helmtest.FakeExec) { f.Fail["backup"] = "bucket unreachable" }, wantErr: "bucket unreachable", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "--skip-backup", exec: func(f *helmtest.FakeExec) { f.NoPod = true }, skip: true, wantErr: "post-upgrade", wantTpe: "2:thingpark-enterprise-1.4.1"},
		{name: "PUM aborted", exec: func(f *helmtest.FakeExec) { f.PumState = "ABORTED" }, wantErr: "ABORTED", wantTpe: "2:thingpark-enterprise-1.4.1"},
		{name: "wait fails", wait: errors.New("StatefulSet/mongo 0/3"), wantErr: "waiting for the workloads after tpe-data-controllers", wantTpe: "1:thingpark-enterprise-1.2.25"},
		{name: "chart 3 fails to render", fail: map[string]bool{"thingpark-application-controllers-1.2.4": true}, wantErr: "fixture.failRender", wantTpe: "1:thingpark-enterprise-1.2.25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := helmtest.NewActionConfig(t)
			helmtest.InstallAll(t, cfg, "v7.2.2c")
			kube := fake.NewClientset()
			ex := helmtest.NewFakeExec()
			if tt.exec != nil {
				tt.exec(ex)
			}
			r := newRunner(t, cfg, kube, ex)
			r.cfg.SkipBackup = tt.skip
			r.repo = helmtest.FakeCharts{FailRender: tt.fail}
			if tt.wait != nil {
				r.d.Wait = func(context.Context, string, time.Duration) error { return tt.wait }
			}
			_, err := runWith(ctx, r, planTo(t, cfg, "v7.3.1"), false)
			var se *StepError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "{flag:resume}") {
				t.Fatalf("err = %v, want a StepError with %q and the --resume command", err, tt.wantErr)
			}
			if got := helmtest.Revisions(t, cfg)["tpe"]; !strings.HasPrefix(got, tt.wantTpe) {
				t.Errorf("tpe = %s, want %s", got, tt.wantTpe)
			}
			if strings.Contains(err.Error(), "id-secret-1234") {
				t.Errorf("the error holds the ID: %v", err)
			}
		})
	}
}

func TestResumeUnlocksPendingRelease(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	ex := helmtest.NewFakeExec()
	r := newRunner(t, cfg, kube, ex)
	r.cfg.SkipBackup = true
	r.d.AfterStep = StopAfter("tpe-data")
	if _, err := runWith(t.Context(), r, planTo(t, cfg, "v7.3.1"), false); !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	// a Ctrl-C in the middle of chart 3 left it pending-upgrade
	helmtest.InstallRelease(t, cfg, manifest.ChartRef{ReleaseName: "tpe-controllers", Chart: "thingpark-application-controllers", Version: "1.2.4"}, 2, helmrelease.StatusPendingUpgrade)
	r = newRunner(t, cfg, kube, ex)
	if _, err := runWith(t.Context(), r, &plan.Plan{Target: "v7.3.1", Action: plan.ActionUpgrade, Reachable: true}, true); err != nil {
		t.Fatal(err)
	}
	if got := helmtest.Revisions(t, cfg)["tpe-controllers"]; got != "3:thingpark-application-controllers-1.2.4:deployed" {
		t.Errorf("tpe-controllers = %s", got)
	}
}

func TestDryRunDiffsAndChangesNothing(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	before := helmtest.Revisions(t, cfg)
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, helmtest.NewFakeExec())
	diffs, err := r.dryRun(t.Context(), planTo(t, cfg, "v7.3.1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 4 || diffs[3].ReleaseName != "tpe" || diffs[3].Changed != 2 {
		t.Fatalf("diffs: %+v", diffs)
	}
	if !strings.Contains(diffs[3].Diff, "+  version: 1.4.1") || strings.Contains(diffs[3].Diff, "pw-1.4.1") || !strings.Contains(diffs[3].Diff, "REDACTED") {
		t.Errorf("tpe diff:\n%s", diffs[3].Diff)
	}
	if after := helmtest.Revisions(t, cfg); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("dry run changed the releases: %v → %v", before, after)
	}
	for _, a := range kube.Actions() {
		if a.GetVerb() != "get" && a.GetVerb() != "list" {
			t.Errorf("dry run made a %s request", a.GetVerb())
		}
	}
}

func TestFailedStepMessageIsRedacted(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, helmtest.NewFakeExec())
	r.cfg.SkipBackup = true
	// the chart's render error happens to print the secret
	r.repo = helmtest.FakeCharts{FailRender: map[string]bool{"thingpark-data-controllers-1.2.4": true}}
	r.red = runRedactor("fixture.failRender", r.vals, nil)
	_, err := runWith(t.Context(), r, planTo(t, cfg, "v7.3.1"), false)
	if err == nil || strings.Contains(err.Error(), "fixture.failRender") {
		t.Fatalf("err = %v", err)
	}
	cm, _ := kube.CoreV1().ConfigMaps(helmtest.NS).Get(t.Context(), ConfigMap, metav1.GetOptions{})
	if d := fmt.Sprint(cm.Data); strings.Contains(d, "fixture.failRender") || !strings.Contains(d, "redacted installation ID #") {
		t.Errorf("progress ConfigMap: %s", d)
	}
}

func TestCtrlCIsRecordedAsInterrupted(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, helmtest.NewFakeExec())
	r.cfg.SkipBackup = true
	ctx, cancel := context.WithCancel(t.Context())
	// Ctrl-C while waiting after chart 2
	r.d.Wait = func(ctx context.Context, _ string, _ time.Duration) error {
		if n, _ := plan.LastRelease(cfg, "tpe-data"); n != nil && n.Version == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	}
	_, err := runWith(ctx, r, planTo(t, cfg, "v7.3.1"), false)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err = %v, want ErrInterrupted", err)
	}
	prog, err := (&Store{Kube: kube, Namespace: helmtest.NS}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	i := prog.Next()
	if prog.State != RunFailed || prog.Steps[i].ReleaseName != "tpe-data" || prog.Steps[i].State != StateInterrupted {
		t.Errorf("progress: %s, next step %+v", prog.State, prog.Steps[i])
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
			cfg := helmtest.NewActionConfig(t)
			for i, c := range old.Charts() {
				if i < tt.atTarget {
					c = target.Charts()[i]
				}
				helmtest.InstallRelease(t, cfg, c, 1, helmrelease.StatusDeployed)
			}
			p := planTo(t, cfg, "v7.3.1")
			if p.Installed != "v7.2.2c" || len(p.Hops) != 1 || !hasStatus(p, "path.installed", check.Warn) {
				t.Fatalf("plan: installed %q hops %d %+v", p.Installed, len(p.Hops), p.Report.Checks)
			}
			var unchanged []string
			for _, c := range p.Hops[0].Charts {
				if c.Action == plan.ActionUnchanged {
					unchanged = append(unchanged, c.ReleaseName)
				}
			}
			if strings.Join(unchanged, ",") != strings.Join(tt.unchanged, ",") {
				t.Errorf("unchanged = %v, want %v", unchanged, tt.unchanged)
			}
			// and the run upgrades only the others
			ex := helmtest.NewFakeExec()
			r := newRunner(t, cfg, fake.NewClientset(), ex)
			r.cfg.SkipBackup = true
			if _, err := runWith(t.Context(), r, p, false); err != nil {
				t.Fatal(err)
			}
			got := helmtest.Revisions(t, cfg)
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

func TestProgressWrittenOncePerStepBoundary(t *testing.T) {
	cfg := helmtest.NewActionConfig(t)
	helmtest.InstallAll(t, cfg, "v7.2.2c")
	kube := fake.NewClientset()
	r := newRunner(t, cfg, kube, helmtest.NewFakeExec())
	r.store = &Store{Kube: kube, Namespace: helmtest.NS}
	rec, err := r.store.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kube.ClearActions()
	res, err := r.run(t.Context(), planTo(t, cfg, "v7.3.1"), rec, false)
	if err != nil {
		t.Fatal(err)
	}
	verbs := map[string]int{}
	for _, a := range kube.Actions() {
		if a.GetResource().Resource == "configmaps" {
			verbs[a.GetVerb()]++
		}
	}
	run := 0
	for _, s := range res.Steps {
		if s.State != StateSkipped {
			run++
		}
	}
	// one write as each step starts (with the one before it done), one at the end; the first creates
	if want := map[string]int{"create": 1, "update": run}; fmt.Sprint(verbs) != fmt.Sprint(want) {
		t.Errorf("progress ConfigMap requests = %v for %d steps; want %v", verbs, run, want)
	}
	prog, err := (&Store{Kube: kube, Namespace: helmtest.NS}).Load(t.Context())
	if err != nil || prog.State != RunDone || prog.Next() != -1 {
		t.Fatalf("record = %+v, %v; want done", prog, err)
	}
}

// A release whose charts render no deploy/pum ships no post-upgrade manager: the gate is skipped
// with a note instead of waiting for a verdict that never comes.
func TestPostUpgradeGateSkippedWithoutManager(t *testing.T) {
	for _, tt := range []struct {
		name      string
		noPUM     bool
		wantState StepState
		wantCalls int
	}{
		{"the release ships deploy/pum: the verdict is read", false, StateDone, 1},
		{"no deploy/pum in the rendered charts: skipped", true, StateSkipped, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := helmtest.NewActionConfig(t)
			helmtest.InstallAll(t, cfg, "v7.2.2c")
			ex := helmtest.NewFakeExec()
			r := newRunner(t, cfg, fake.NewClientset(), ex)
			r.cfg.SkipBackup = true
			r.repo = helmtest.FakeCharts{NoPUM: tt.noPUM}
			calls := 0
			r.d.PUM = func(ctx context.Context, n string) (*pum.Status, error) { calls++; return pum.Get(ctx, ex, n) }
			res, err := runWith(t.Context(), r, planTo(t, cfg, "v7.3.1"), false)
			if err != nil {
				t.Fatal(err)
			}
			last := res.Steps[len(res.Steps)-1]
			if last.Kind != StepPUM || last.State != tt.wantState || calls != tt.wantCalls {
				t.Errorf("post-upgrade step %s %s (%q), PUM read %d times; want %s, %d", last.Kind, last.State, last.Message, calls, tt.wantState, tt.wantCalls)
			}
			if tt.noPUM && !strings.Contains(last.Message, "ships no post-upgrade manager") {
				t.Errorf("message %q does not say why", last.Message)
			}
		})
	}
}
