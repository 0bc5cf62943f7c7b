package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/diff"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// Runner installs or upgrades the four charts of a plan, in order, with waits in between, the
// backup guard before and the post-upgrade verdict after, recording its progress.
type Runner struct {
	Action    *action.Configuration
	Kube      kubernetes.Interface
	Exec      podexec.Executor
	Namespace string
	Charts    ChartSource
	// Values are the user's merged values, given to every chart (as the vendor's procedure does).
	Values     map[string]any
	ValueFiles []string
	// Timeout bounds each chart's install/upgrade and each wait.
	Timeout time.Duration
	// Wait waits for the namespace's workloads after a chart (pkg/wait in production).
	Wait func(ctx context.Context, namespace string, timeout time.Duration) error
	// PUM waits for the post-upgrade verdict (pkg/pum in production).
	PUM func(ctx context.Context, namespace string) (*pum.Status, error)
	// Log receives progress lines ("step 2/9 ...").
	Log        func(format string, a ...any)
	SkipBackup bool
	Resume     bool
	// StopAfter interrupts the run after the chart step of this Helm release (tests only).
	StopAfter string
	// Secrets (the installation ID, the secrets of the values) are removed from every message recorded in the progress
	// ConfigMap or returned.
	Secrets []string
	// ShowSecrets shows Secret data and the values' secrets in the dry-run diff (--show-secrets).
	ShowSecrets bool
	// RetryCommand is the command a user reruns to continue ("helm tpe upgrade --to v7.3.1 -f v.yaml").
	RetryCommand string
	now          func() time.Time
}

// RunResult is the summary of a run.
type RunResult struct {
	Action  string         `json:"action"`
	From    string         `json:"from,omitempty"`
	Target  string         `json:"target"`
	State   string         `json:"state"`
	Changed bool           `json:"changed"`
	Backup  string         `json:"backup,omitempty"`
	Message string         `json:"message,omitempty"`
	Elapsed string         `json:"elapsed"`
	Steps   []ProgressStep `json:"steps"`
}

// ErrInterrupted is returned when the run stopped before its end (Ctrl-C, StopAfter).
var ErrInterrupted = errors.New("interrupted")

// StepError is a failed step, with the command to continue.
type StepError struct {
	Step ProgressStep
	Err  error
	Next string
}

// Error implements error.
func (e *StepError) Error() string {
	return fmt.Sprintf("step %d (%s) failed: %v; next: %s", e.Step.N, e.Step.Label(), e.Err, e.Next)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

func (r *Runner) logf(format string, a ...any) {
	if r.Log != nil {
		r.Log(format, a...)
	}
}

func (r *Runner) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// Steps builds the steps of a plan: the backup, then per hop the four charts and the
// post-upgrade verdict.
func Steps(p *Plan) []ProgressStep {
	steps := []ProgressStep{{Kind: StepBackup, State: StatePending}}
	for _, h := range p.Hops {
		for _, c := range h.Charts {
			st := ProgressStep{Hop: h.N, HopTo: h.To, Kind: StepChart, ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version, State: StatePending}
			if c.Action == "unchanged" {
				st.State, st.Message = StateSkipped, "already at this version"
			}
			steps = append(steps, st)
		}
		steps = append(steps, ProgressStep{Hop: h.N, HopTo: h.To, Kind: StepPUM, State: StatePending})
	}
	for i := range steps {
		steps[i].N = i + 1
	}
	return steps
}

// Run executes the plan (or resumes the recorded run).
func (r *Runner) Run(ctx context.Context, p *Plan) (*RunResult, error) {
	start := r.clock()
	store := ProgressStore{Kube: r.Kube, Namespace: r.Namespace}
	prog, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	unfinished := prog != nil && prog.State != RunDone
	switch {
	case r.Resume && !unfinished:
		if p.Action == ActionNone {
			return r.result(p, prog, false, start, p.Target+" is installed: nothing to resume, nothing changed"), nil
		}
		return nil, fmt.Errorf("--resume: there is no unfinished run in namespace %s (no ConfigMap %s in progress): run without --resume", r.Namespace, ProgressConfigMap)
	case r.Resume && prog.Target != p.Target:
		return nil, fmt.Errorf("--resume: the unfinished run in namespace %s goes to %s, not %s: rerun with --to %s --resume", r.Namespace, prog.Target, p.Target, prog.Target)
	case !r.Resume && unfinished:
		i := prog.Next()
		at := "the start"
		if i >= 0 {
			at = fmt.Sprintf("step %d (%s, %s)", prog.Steps[i].N, prog.Steps[i].Label(), prog.Steps[i].State)
		}
		return nil, fmt.Errorf("an unfinished %s to %s (started %s) stopped at %s: continue it with --resume, or delete ConfigMap %s/%s to start over",
			prog.Action, prog.Target, prog.StartedAt.UTC().Format(time.RFC3339), at, r.Namespace, ProgressConfigMap)
	case !r.Resume && p.Action == ActionNone:
		return r.result(p, prog, false, start, p.Target+" is already installed: nothing changed"), nil
	}
	if !r.Resume {
		if !p.Reachable {
			return nil, fmt.Errorf("%w: %s", ErrUnreachable, p.Reason)
		}
		prog = &Progress{Action: p.Action, From: p.Installed, Target: p.Target, State: RunRunning, StartedAt: start.UTC(),
			Steps: Steps(p), ValueFiles: r.ValueFiles}
	}
	prog.State = RunRunning
	prog.UpdatedAt = r.clock().UTC()
	if err := store.Save(ctx, prog); err != nil {
		return nil, err
	}
	total := len(prog.Steps)
	for i := range prog.Steps {
		st := &prog.Steps[i]
		if st.State == StateDone || st.State == StateSkipped {
			continue
		}
		if err := ctx.Err(); err != nil {
			return r.stop(prog, store, st, ErrInterrupted, start)
		}
		st.State, st.Message = StateRunning, ""
		prog.UpdatedAt = r.clock().UTC()
		if err := store.Save(ctx, prog); err != nil {
			return nil, err
		}
		t0 := r.clock()
		r.logf("step %d/%d %s ...", st.N, total, st.Label())
		var err error
		switch st.Kind {
		case StepBackup:
			err = r.backupStep(ctx, p, prog, st)
		case StepChart:
			err = r.chartStep(ctx, st)
		case StepPUM:
			err = r.pumStep(ctx, st)
		}
		st.Elapsed = r.clock().Sub(t0).Round(time.Second).String()
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", ErrInterrupted, err)
			}
			return r.stop(prog, store, st, err, start)
		}
		if st.State == StateRunning {
			st.State = StateDone
		}
		r.logf("step %d/%d %s %s (%s, total %s)", st.N, total, st.Label(), st.State, st.Elapsed, r.clock().Sub(start).Round(time.Second))
		prog.UpdatedAt = r.clock().UTC()
		if err := store.Save(ctx, prog); err != nil {
			return nil, err
		}
		if r.StopAfter != "" && st.Kind == StepChart && st.ReleaseName == r.StopAfter {
			return r.stop(prog, store, &prog.Steps[min(i+1, len(prog.Steps)-1)], fmt.Errorf("%w after %s (test hook)", ErrInterrupted, st.ReleaseName), start)
		}
	}
	prog.State = RunDone
	prog.UpdatedAt = r.clock().UTC()
	if err := store.Save(ctx, prog); err != nil {
		return nil, err
	}
	return r.result(p, prog, true, start, fmt.Sprintf("%s of %s done", prog.Action, prog.Target)), nil
}

func (r *Runner) result(p *Plan, prog *Progress, changed bool, start time.Time, msg string) *RunResult {
	res := &RunResult{Action: p.Action, From: p.Installed, Target: p.Target, State: RunDone, Changed: changed, Message: msg,
		Elapsed: r.clock().Sub(start).Round(time.Millisecond).String(), Steps: []ProgressStep{}}
	if prog != nil {
		res.Action, res.From, res.State, res.Backup, res.Steps = prog.Action, prog.From, prog.State, prog.Backup, prog.Steps
		if !changed {
			res.State = RunDone
		}
	}
	return res
}

// stop records a failed or interrupted step and returns a StepError with the next command.
func (r *Runner) stop(prog *Progress, store ProgressStore, st *ProgressStep, cause error, start time.Time) (*RunResult, error) {
	if errors.Is(cause, ErrInterrupted) {
		st.State = StateInterrupted
	} else {
		st.State = StateFailed
	}
	red := redact.New(r.Secrets...)
	st.Message = red.String(text.OneLine(cause.Error(), 0))
	cause = red.Error(cause)
	prog.State = RunFailed
	prog.UpdatedAt = r.clock().UTC()
	// The run's context may be cancelled (Ctrl-C): record with a fresh one.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := store.Save(ctx, prog); err != nil {
		r.logf("warning: %v", err)
	}
	next := r.RetryCommand + " --resume"
	res := &RunResult{Action: prog.Action, From: prog.From, Target: prog.Target, State: RunFailed, Changed: true, Backup: prog.Backup,
		Message: st.Message, Elapsed: r.clock().Sub(start).Round(time.Millisecond).String(), Steps: prog.Steps}
	return res, &StepError{Step: *st, Err: cause, Next: next}
}

func (r *Runner) backupStep(ctx context.Context, p *Plan, prog *Progress, st *ProgressStep) error {
	ctl := Controller{Exec: r.Exec, Namespace: r.Namespace}
	switch {
	case r.SkipBackup:
		st.State, st.Message = StateSkipped, "SKIPPED by --skip-backup: there is no backup to roll back to"
		r.logf("WARNING: --skip-backup: no upgrade backup is taken; a failed upgrade cannot be restored")
		return nil
	case p.Action == ActionInstall:
		st.State, st.Message = StateSkipped, "fresh install: there is no data and no "+ControllerDeployment+" yet"
		return nil
	}
	before, err := ctl.ListBackups(ctx)
	if err != nil {
		var np *podexec.NoReadyPodError
		if errors.As(err, &np) {
			return fmt.Errorf("the backup tooling does not answer (%w): an upgrade backup is mandatory; fix the controller or pass --skip-backup", err)
		}
		return fmt.Errorf("the backup tooling does not answer: %w", err)
	}
	name, err := ctl.Backup(ctx)
	if err != nil {
		return err
	}
	after, err := ctl.ListBackups(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, b := range after {
		found = found || b == name
	}
	if !found {
		return fmt.Errorf("backup %s was reported but list-backups does not show it (it lists %d backups, %d before)", name, len(after), len(before))
	}
	prog.Backup = name
	st.Message = "backup " + name
	r.logf("upgrade backup: %s", name)
	return nil
}

func (r *Runner) chartStep(ctx context.Context, st *ProgressStep) error {
	ch, err := r.Charts.LoadChart(st.Chart, st.Version)
	if err != nil {
		return err
	}
	rel, err := r.apply(ctx, st.ReleaseName, ch, false)
	if err != nil {
		return err
	}
	st.Revision = rel.Version
	if r.Wait != nil {
		if err := r.Wait(ctx, r.Namespace, r.Timeout); err != nil {
			return fmt.Errorf("waiting for the workloads after %s: %w", st.ReleaseName, err)
		}
	}
	return nil
}

// apply installs or upgrades one release with the chart (server-side dry run when dryRun).
func (r *Runner) apply(ctx context.Context, name string, ch *chart.Chart, dryRun bool) (*helmrelease.Release, error) {
	last, err := lastRelease(r.Action, name)
	if err != nil {
		return nil, err
	}
	if last == nil || last.Info == nil || last.Info.Status == helmrelease.StatusUninstalled {
		in := action.NewInstall(r.Action)
		in.ReleaseName, in.Namespace, in.Timeout = name, r.Namespace, r.Timeout
		in.Replace = last != nil
		if dryRun {
			in.DryRun, in.DryRunOption = true, "server"
		}
		rel, err := in.RunWithContext(ctx, ch, copyValues(r.Values))
		if err != nil {
			return nil, fmt.Errorf("helm install %s (%s): %w", name, ChartFullName(ch), err)
		}
		return rel, nil
	}
	if last.Info.Status.IsPending() && !dryRun {
		// An interrupted helm operation leaves the release pending and locks it; as `helm
		// rollback`/`upgrade` would after a human check, mark it failed so the upgrade can go on.
		r.logf("release %s was left %s by an interrupted run: marking revision %d failed", name, last.Info.Status, last.Version)
		last.Info.Status = helmrelease.StatusFailed
		last.Info.Description = "interrupted; marked failed by helm tpe --resume"
		if err := r.Action.Releases.Update(last); err != nil {
			return nil, fmt.Errorf("unlocking the pending release %s: %w", name, err)
		}
	}
	up := action.NewUpgrade(r.Action)
	up.Namespace, up.Timeout, up.MaxHistory = r.Namespace, r.Timeout, 10
	if dryRun {
		up.DryRun, up.DryRunOption = true, "server"
	}
	rel, err := up.RunWithContext(ctx, name, ch, copyValues(r.Values))
	if err != nil {
		return nil, fmt.Errorf("helm upgrade %s (%s): %w", name, ChartFullName(ch), err)
	}
	return rel, nil
}

func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if m, ok := x.(map[string]any); ok {
			out[k] = copyValues(m)
		} else {
			out[k] = x
		}
	}
	return out
}

func (r *Runner) pumStep(ctx context.Context, st *ProgressStep) error {
	if r.PUM == nil {
		st.State, st.Message = StateSkipped, "no post-upgrade check configured"
		return nil
	}
	s, err := r.PUM(ctx, r.Namespace)
	if err != nil {
		return fmt.Errorf("post-upgrade procedure: %w (see `kubectl tpe pum status`)", err)
	}
	if s.Verdict == pum.Failed {
		var aborted []string
		for _, e := range s.Entries {
			if e.State == pum.StateAborted {
				aborted = append(aborted, e.RequestID)
			}
		}
		return fmt.Errorf("post-upgrade procedure ABORTED (%s): read `kubectl logs -n %s jobs.batch/%s`, fix the cause, run `kubectl tpe pum restart`",
			strings.Join(aborted, ", "), r.Namespace, pum.Job)
	}
	st.Message = fmt.Sprintf("post-upgrade procedure %s (%d request(s))", s.Verdict, len(s.Entries))
	return nil
}

// ChartDiff is what a server-side dry run of one chart would change.
type ChartDiff struct {
	Hop         int    `json:"hop"`
	ReleaseName string `json:"releaseName"`
	Chart       string `json:"chart"`
	Version     string `json:"version"`
	Action      string `json:"action"`
	Added       int    `json:"added"`
	Removed     int    `json:"removed"`
	Changed     int    `json:"changed"`
	// Objects are the objects that differ (their names masked like the diff).
	Objects []diff.Change `json:"objects"`
	Diff    string        `json:"diff"`
}

// DryRun renders every chart of every hop against the cluster (Helm's server-side dry run:
// lookups read, nothing is written) and diffs each manifest with the one it would replace.
func (r *Runner) DryRun(ctx context.Context, p *Plan) ([]ChartDiff, error) {
	out := []ChartDiff{}
	prev := map[string]string{}
	// The secrets of the new values and of the installed releases' values (a rotated key is in the
	// installed manifests only), plus the installation ID of the repository.
	secrets := redact.FromValues(r.Values)
	for _, s := range r.Secrets {
		secrets = append(secrets, redact.Secret{Path: "secret", Value: s})
	}
	for _, n := range manifest.ReleaseNames {
		if last, err := lastRelease(r.Action, n); err != nil {
			return nil, err
		} else if last != nil && last.Info != nil && last.Info.Status != helmrelease.StatusUninstalled {
			prev[n] = last.Manifest
			secrets = append(secrets, redact.FromValues(last.Config)...)
		}
	}
	red := redact.NewTagged(secrets)
	for _, h := range p.Hops {
		for _, c := range h.Charts {
			if c.Action == "unchanged" {
				continue
			}
			r.logf("dry run: rendering %s %s %s (hop %d)", c.ReleaseName, c.Chart, c.Version, h.N)
			ch, err := r.Charts.LoadChart(c.Chart, c.Version)
			if err != nil {
				return nil, err
			}
			rel, err := r.apply(ctx, c.ReleaseName, ch, true)
			if err != nil {
				return nil, red.Error(err)
			}
			d := diff.Manifests(prev[c.ReleaseName], rel.Manifest, diff.Options{Redactor: red, ShowSecrets: r.ShowSecrets})
			out = append(out, ChartDiff{Hop: h.N, ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version, Action: c.Action,
				Added: d.Added, Removed: d.Removed, Changed: d.Changed, Objects: d.Objects, Diff: d.Text})
			prev[c.ReleaseName] = rel.Manifest
		}
	}
	return out, nil
}
