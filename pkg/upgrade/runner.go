// Package upgrade installs or upgrades a TPE release: Run is the one entry point of
// `helm tpe install|upgrade` (values, plan, guard, confirmation, then the run or the dry run),
// a runner executes a plan's steps in order — the upgrade backup, each chart with Helm's SDK and the
// waits, the post-upgrade verdict — and Store keeps the progress record that makes a run
// resumable. It writes to no process stream: progress goes to a callback, results are values.
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	helmrelease "helm.sh/helm/v3/pkg/release"

	"github.com/thingpark-tools/kubectl-tpe/pkg/backup"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// runner installs or upgrades the four charts of a plan, in order, with waits in between, the
// backup guard before and the post-upgrade verdict after, recording its progress. Run makes one
// per run; it holds the run's Deps and Config as they are, and what Run worked out once.
type runner struct {
	d   Deps
	cfg Config
	// repo is where the charts come from; vals are the user's merged values, given to every chart
	// (as the vendor's procedure does).
	repo charts.Source
	vals values.Values
	// red is the run's one redactor: every progress line, recorded message, error and diff goes
	// through it.
	red *redact.Redactor
	// retry is the command a user reruns to continue ("helm tpe upgrade --to v7.3.1 -f v.yaml").
	retry string
	// store is the progress record's store as Run loaded it.
	store *Store
	// last is the newest revision of each release when the run started, as the plan read it
	// (plan.State.Last); nil: read from Helm's storage. The runner keeps it up to date with the
	// revisions it makes, so that no chart reads the release history again.
	last map[string]*helmrelease.Release

	helmCfg  *action.Configuration
	recorder *writeRecorder
	watch    *wait.Watch
}

// Result is the summary of a run.
type Result struct {
	Action  plan.Action `json:"action"`
	From    string      `json:"from,omitempty"`
	Target  string      `json:"target"`
	State   RunState    `json:"state"`
	Changed bool        `json:"changed"`
	// Backup is the latest upgrade backup; Backups all of them, one per hop that upgrades tpe.
	Backup  string      `json:"backup,omitempty"`
	Backups []HopBackup `json:"backups,omitempty"`
	Message string      `json:"message,omitempty"`
	Elapsed string      `json:"elapsed"`
	Steps   []Step      `json:"steps"`
}

// ErrInterrupted is returned when the run stopped before its end (Ctrl-C, an AfterStep hook).
var ErrInterrupted = errors.New("interrupted")

// StepError is a failed step, with the command to continue.
type StepError struct {
	Step Step
	Err  error
	Next string
}

// Error implements error.
func (e *StepError) Error() string {
	return fmt.Sprintf("step %d (%s) failed: %v; next: %s", e.Step.N, e.Step.Label(), e.Err, e.Next)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// logf sends a progress line, its secrets masked, to Deps.Log.
func (r *runner) logf(format string, a ...any) {
	if r.d.Log != nil {
		r.d.Log("%s", r.red.String(fmt.Sprintf(format, a...)))
	}
}

func (r *runner) clock() time.Time { return time.Now() }

// Steps builds the steps of a plan: per hop, the upgrade backup when the hop upgrades tpe
// (plan.Hop.TakesBackup; a fresh install gets one that says why it takes none), the four charts
// and the post-upgrade verdict.
func Steps(p *plan.Plan) []Step {
	var steps []Step
	for _, h := range p.Hops {
		switch {
		case h.Backup:
			steps = append(steps, Step{Hop: h.N, HopFrom: h.From, HopTo: h.To, Kind: StepBackup, State: StatePending})
		case h.From == "" && p.Action == plan.ActionInstall:
			// Run, it says why no backup is taken (no HopFrom: nothing to back up).
			steps = append(steps, Step{Hop: h.N, HopTo: h.To, Kind: StepBackup, State: StatePending})
		}
		for _, c := range h.Charts {
			st := Step{Hop: h.N, HopTo: h.To, Kind: StepChart, ReleaseName: c.ReleaseName, Chart: c.Chart, Version: c.Version, State: StatePending}
			if c.Action == plan.ActionUnchanged {
				st.State, st.Message = StateSkipped, "already at this version"
			}
			steps = append(steps, st)
		}
		steps = append(steps, Step{Hop: h.N, HopTo: h.To, Kind: StepPUM, State: StatePending})
	}
	for i := range steps {
		steps[i].N = i + 1
	}
	return steps
}

// CheckRecord is the one rule for a progress record found before a run: an unfinished run must be
// continued with --resume (or its record deleted), --resume needs an unfinished run (unless the
// target is installed: nothing to do) to the same target.
func CheckRecord(rec *Record, resume bool, target string, action plan.Action, namespace string, retry func(target string) string) error {
	switch {
	case resume && !rec.Unfinished() && action != plan.ActionNone:
		return fmt.Errorf("{flag:resume}: there is no unfinished run in namespace %s (no ConfigMap %s in progress): run without {flag:resume}", namespace, ConfigMap)
	case resume && rec.Unfinished() && rec.Target != target:
		return fmt.Errorf("{flag:resume}: the unfinished run in namespace %s goes to %s, not %s: rerun with {flag:to} %s {flag:resume}", namespace, rec.Target, target, rec.Target)
	case !resume && rec.Unfinished():
		i := rec.Next()
		at := "the start"
		if i >= 0 {
			at = fmt.Sprintf("step %d (%s, %s)", rec.Steps[i].N, rec.Steps[i].Label(), rec.Steps[i].State)
		}
		cont := "{flag:resume}"
		if retry != nil {
			cont = "`" + retry(rec.Target) + " {flag:resume}`"
		}
		return &BlockedError{Msg: fmt.Sprintf("an unfinished %s to %s (started %s) stopped at %s: continue it with %s, or delete ConfigMap %s/%s to start over",
			rec.Action, rec.Target, rec.StartedAt.UTC().Format(time.RFC3339), at, cont, namespace, ConfigMap)}
	}
	return nil
}

// run executes the plan, or resumes the run of rec (the record Load returned, nil when there is
// none) when resume is set. The caller has checked that rec and resume agree (see Run).
func (r *runner) run(ctx context.Context, p *plan.Plan, rec *Record, resume bool) (*Result, error) {
	start := r.clock()
	store := r.store
	defer r.stopWatch()
	prog := rec
	if err := CheckRecord(rec, resume, p.Target, p.Action, r.cfg.Namespace, nil); err != nil {
		return nil, err
	}
	if !resume && p.Action == plan.ActionNone || resume && !prog.Unfinished() {
		msg := p.Target + " is already installed: nothing changed"
		if resume {
			msg = p.Target + " is installed: nothing to resume, nothing changed"
		}
		return r.result(p, prog, false, start, msg), nil
	}
	if !resume {
		if !p.Reachable {
			return nil, fmt.Errorf("%w: %s", plan.ErrUnreachable, p.Reason)
		}
		prog = &Record{Action: p.Action, From: p.Installed, Target: p.Target, State: RunRunning, StartedAt: start.UTC(),
			Steps: Steps(p), ValueFiles: r.cfg.ValueFiles}
	}
	prog.State = RunRunning
	// The record is written once per step boundary: the step that ends and the one that starts
	// (running) in one write. --resume runs again every step that is not done or skipped.
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
			// Nothing of this step ran: the API server is away. The record (if any) still says
			// where the run is; --resume continues from there.
			return r.stop(prog, store, st, err, start)
		}
		t0 := r.clock()
		r.logf("step %d/%d %s ...", st.N, total, st.Label())
		var err error
		switch st.Kind {
		case StepBackup:
			err = r.backupStep(ctx, prog, st)
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
		if r.d.AfterStep != nil {
			if err := r.d.AfterStep(*st); err != nil {
				return r.stop(prog, store, &prog.Steps[min(i+1, len(prog.Steps)-1)], fmt.Errorf("%w after step %d (%s): %w", ErrInterrupted, st.N, st.Label(), err), start)
			}
		}
	}
	prog.State = RunDone
	prog.UpdatedAt = r.clock().UTC()
	if err := store.Save(ctx, prog); err != nil {
		return nil, fmt.Errorf("every step is done, but %w; next: %s {flag:resume} (it records the run as done)", err, r.retry)
	}
	return r.result(p, prog, true, start, fmt.Sprintf("%s of %s done", prog.Action, prog.Target)), nil
}

func (r *runner) result(p *plan.Plan, prog *Record, changed bool, start time.Time, msg string) *Result {
	res := &Result{Action: p.Action, From: p.Installed, Target: p.Target, State: RunDone, Changed: changed, Message: msg,
		Elapsed: r.clock().Sub(start).Round(time.Millisecond).String(), Steps: []Step{}}
	if prog != nil {
		res.Action, res.From, res.State, res.Backup, res.Backups, res.Steps = prog.Action, prog.From, prog.State, prog.Backup, prog.Backups, prog.Steps
		if !changed {
			res.State = RunDone
		}
	}
	return res
}

// stop records a failed or interrupted step and returns a StepError with the next command.
func (r *runner) stop(prog *Record, store *Store, st *Step, cause error, start time.Time) (*Result, error) {
	if errors.Is(cause, ErrInterrupted) {
		st.State = StateInterrupted
	} else {
		st.State = StateFailed
	}
	st.Message = r.red.String(text.OneLine(cause.Error(), 0))
	cause = r.red.Error(cause)
	prog.State = RunFailed
	prog.UpdatedAt = r.clock().UTC()
	// The run's context may be cancelled (Ctrl-C): record with a fresh one.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := store.Save(ctx, prog); err != nil {
		r.logf("warning: %v", err)
	}
	next := r.retry + " {flag:resume}"
	if hint := prog.rollbackHint(st); hint != "" {
		next += ", " + hint
	}
	res := &Result{Action: prog.Action, From: prog.From, Target: prog.Target, State: RunFailed, Changed: true, Backup: prog.Backup, Backups: prog.Backups,
		Message: st.Message, Elapsed: r.clock().Sub(start).Round(time.Millisecond).String(), Steps: prog.Steps}
	return res, &StepError{Step: *st, Err: cause, Next: next}
}

// backupStep takes the upgrade backup of a hop and records it. A backup already recorded for
// the hop (a run resumed after the backup) is used if list-backups still lists it: --resume never
// takes a second one.
func (r *runner) backupStep(ctx context.Context, prog *Record, st *Step) error {
	ctl := backup.Controller{Exec: r.d.Exec, Namespace: r.cfg.Namespace}
	if st.Hop > 0 && st.HopFrom == "" {
		st.State, st.Message = StateSkipped, "fresh install: there is no data and no "+backup.ControllerDeployment+" yet"
		return nil
	}
	if r.cfg.SkipBackup {
		st.State, st.Message = StateSkipped, "SKIPPED by {flag:skip-backup}: there is no backup to roll back to"
		r.logf("WARNING: {flag:skip-backup}: no upgrade backup is taken; a failed upgrade cannot be restored")
		return nil
	}
	before, err := ctl.ListBackups(ctx)
	if err != nil {
		var np *podexec.NoReadyPodError
		if errors.As(err, &np) {
			return fmt.Errorf("the backup tooling does not answer (%w): an upgrade backup is mandatory; fix the controller or pass {flag:skip-backup}", err)
		}
		return fmt.Errorf("the backup tooling does not answer: %w", err)
	}
	hb := HopBackup{Hop: st.Hop, From: st.HopFrom, To: st.HopTo}
	if hb.From == "" {
		hb.From, hb.To = prog.From, prog.Target
	}
	if had := prog.BackupOf(st.Hop); had != nil {
		if slices.Contains(before, had.Name) {
			hb.Name = had.Name
			prog.setBackup(hb)
			st.Backup, st.Message = had.Name, "backup "+had.Name+" (taken before the run stopped)"
			r.logf("upgrade backup %s: already taken for this hop, not taken again", had.Name)
			return nil
		}
		r.logf("the backup %s recorded for this hop is not listed by list-backups: taking a new one", had.Name)
	}
	name, err := ctl.Backup(ctx)
	if err != nil {
		return err
	}
	// Recorded at once: if the check below fails, the record (saved by stop) keeps the name, and
	// --resume uses this backup instead of taking another.
	hb.Name = name
	prog.setBackup(hb)
	st.Backup = name
	after, err := ctl.ListBackups(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(after, name) {
		return fmt.Errorf("backup %s was reported but list-backups does not show it (it lists %d backups, %d before)", name, len(after), len(before))
	}
	st.Message = "backup " + name
	r.logf("upgrade backup: %s", hb)
	return nil
}

func (r *runner) chartStep(ctx context.Context, st *Step) error {
	ch, err := r.repo.LoadChart(st.Chart, st.Version)
	if err != nil {
		return err
	}
	rel, err := r.apply(ctx, st.ReleaseName, ch, false)
	if f, ok := r.d.Exec.(interface{ Forget() }); ok {
		f.Forget() // the chart may have replaced the pods the next exec would reuse
	}
	if err != nil {
		return err
	}
	st.Revision = rel.Version
	if r.d.Wait != nil {
		if err := r.d.Wait(ctx, r.cfg.Namespace, r.cfg.Timeout); err != nil {
			return fmt.Errorf("waiting for the workloads after %s: %w", st.ReleaseName, err)
		}
	}
	return nil
}

// helm returns the run's Helm configuration: the caller's, with a Kubernetes client that records
// the workloads each chart writes (for the waits). It is made once, so that Helm reads the
// cluster's capabilities once per run.
func (r *runner) helm() *action.Configuration {
	if r.helmCfg == nil {
		r.helmCfg, r.recorder = recording(r.d.Helm)
	}
	return r.helmCfg
}

// lastRelease is the newest revision of a release: from Last (the plan's read, then the
// revisions this run made), else from Helm's storage.
func (r *runner) lastRelease(name string) (*helmrelease.Release, error) {
	if r.last != nil {
		return r.last[name], nil
	}
	return plan.LastRelease(r.d.Helm, name)
}

// apply installs or upgrades one release with the chart (server-side dry run when dryRun).
func (r *runner) apply(ctx context.Context, name string, ch *chart.Chart, dryRun bool) (*helmrelease.Release, error) {
	rel, err := r.applyChart(ctx, name, ch, dryRun)
	if err == nil && !dryRun && r.last != nil {
		r.last[name] = rel
	}
	return rel, err
}

func (r *runner) applyChart(ctx context.Context, name string, ch *chart.Chart, dryRun bool) (*helmrelease.Release, error) {
	cfg := r.helm()
	last, err := r.lastRelease(name)
	if err != nil {
		return nil, err
	}
	if last == nil || last.Info == nil || last.Info.Status == helmrelease.StatusUninstalled {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace, in.Timeout = name, r.cfg.Namespace, r.cfg.Timeout
		in.Replace = last != nil
		if dryRun {
			in.DryRun, in.DryRunOption = true, "server"
		}
		rel, err := in.RunWithContext(ctx, ch, copyValues(r.vals))
		if err != nil {
			return nil, fmt.Errorf("helm install %s (%s): %w", name, plan.ChartFullName(ch), err)
		}
		return rel, nil
	}
	if last.Info.Status.IsPending() && !dryRun {
		// An interrupted helm operation leaves the release pending and locks it; as `helm
		// rollback`/`upgrade` would after a human check, mark it failed so the upgrade can go on.
		r.logf("release %s was left %s by an interrupted run: marking revision %d failed", name, last.Info.Status, last.Version)
		last.Info.Status = helmrelease.StatusFailed
		last.Info.Description = "interrupted; marked failed by helm tpe --resume"
		if err := cfg.Releases.Update(last); err != nil {
			return nil, fmt.Errorf("unlocking the pending release %s: %w", name, err)
		}
	}
	up := action.NewUpgrade(cfg)
	up.Namespace, up.Timeout, up.MaxHistory = r.cfg.Namespace, r.cfg.Timeout, 10
	if dryRun {
		up.DryRun, up.DryRunOption = true, "server"
	}
	rel, err := up.RunWithContext(ctx, name, ch, copyValues(r.vals))
	if err != nil {
		return nil, fmt.Errorf("helm upgrade %s (%s): %w", name, plan.ChartFullName(ch), err)
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

func (r *runner) pumStep(ctx context.Context, st *Step) error {
	if r.d.PUM == nil {
		st.State, st.Message = StateSkipped, "no post-upgrade check configured"
		return nil
	}
	if ships, known := r.shipsPUM(); known && !ships {
		st.State = StateSkipped
		st.Message = "the release " + st.HopTo + " ships no post-upgrade manager (no deploy/" + pum.Deployment + " in its rendered charts): no post-upgrade procedure to wait for"
		r.logf("%s", st.Message)
		return nil
	}
	s, err := r.d.PUM(ctx, r.cfg.Namespace)
	if err != nil {
		return fmt.Errorf("post-upgrade procedure: %w (see `{cmd:pum-status}`)", err)
	}
	if s.Verdict == pum.Failed {
		var aborted []string
		for _, e := range s.Entries {
			if e.State == pum.StateAborted {
				aborted = append(aborted, e.RequestID)
			}
		}
		return fmt.Errorf("post-upgrade procedure ABORTED (%s): read `kubectl logs -n %s jobs.batch/%s`, fix the cause, run `{cmd:pum-restart}`",
			strings.Join(aborted, ", "), r.cfg.Namespace, pum.Job)
	}
	st.Message = fmt.Sprintf("post-upgrade procedure %s (%d request(s))", s.Verdict, len(s.Entries))
	return nil
}

// shipsPUM reports whether the charts now installed (the hop's target) render the post-upgrade
// manager, deploy/pum; known is false when a release's manifest cannot be read.
func (r *runner) shipsPUM() (ships, known bool) {
	for _, n := range manifest.ReleaseNames {
		rel, err := r.lastRelease(n)
		if err != nil || rel == nil {
			return false, false
		}
		if pum.ShipsManager(rel.Manifest) {
			return true, true
		}
	}
	return false, true
}
