// Package rollback follows the vendor's rollback procedure for a TPE release: roll the tpe Helm
// release back to the revision before the upgrade, wait for the workloads, then restore the
// upgrade backup taken before that upgrade (after an explicit confirmation, since a restore
// deletes the current data). Run is the one entry point of `helm tpe rollback`.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/backup"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// runner follows the vendor's rollback procedure: find the upgrade backup, check it matches the
// Helm revision to return to, roll back `tpe`, wait, then restore the backup after an explicit
// confirmation. Run makes one per rollback; it holds the Deps and Config as they are.
type runner struct {
	d   Deps
	cfg Config
	// progress reads the backup recorded by install/upgrade.
	progress *upgrade.Store
}

// ChartRollback is a release rolled back with --all-charts.
type ChartRollback struct {
	ReleaseName  string `json:"releaseName"`
	FromRevision int    `json:"fromRevision"`
	FromChart    string `json:"fromChart"`
	ToRevision   int    `json:"toRevision"`
	ToChart      string `json:"toChart"`
}

// Plan is what a rollback will do.
type Plan struct {
	Namespace      string       `json:"namespace"`
	FromRevision   int          `json:"fromRevision"`
	FromChart      string       `json:"fromChart"`
	FromAppVersion string       `json:"fromAppVersion,omitempty"`
	ToRevision     int          `json:"toRevision"`
	ToChart        string       `json:"toChart"`
	ToAppVersion   string       `json:"toAppVersion,omitempty"`
	ToRelease      string       `json:"toRelease,omitempty"`
	Backup         *backup.Info `json:"backup,omitempty"`
	BackupSource   string       `json:"backupSource,omitempty"`
	// BackupReason explains why this backup is the one to restore (and why the run's others are not).
	BackupReason string          `json:"backupReason,omitempty"`
	OtherCharts  []ChartRollback `json:"otherCharts,omitempty"`
	Warnings     []string        `json:"warnings,omitempty"`
	Steps        []string        `json:"steps"`
}

// Result is the outcome of a rollback.
type Result struct {
	Plan     *Plan  `json:"plan"`
	Restored bool   `json:"restored"`
	Message  string `json:"message"`
	Elapsed  string `json:"elapsed"`
}

func (rb *runner) logf(format string, a ...any) {
	if rb.d.Log != nil {
		rb.d.Log(format, a...)
	}
}

// plan finds the revision to return to and the backup to restore; it changes nothing.
func (rb *runner) plan(ctx context.Context) (*Plan, error) {
	h, err := plan.History(rb.d.Helm, manifest.ReleaseEnterprise)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("the Helm release %s is not installed in namespace %s: nothing to roll back", manifest.ReleaseEnterprise, rb.cfg.Namespace)
	}
	cur := h[len(h)-1]
	p := &Plan{Namespace: rb.cfg.Namespace, FromRevision: cur.Version, FromChart: plan.ChartFullName(cur.Chart), FromAppVersion: appVersion(cur)}
	var target *helmrelease.Release
	if rb.cfg.ToRevision > 0 {
		for _, r := range h {
			if r.Version == rb.cfg.ToRevision {
				target = r
			}
		}
		if target == nil {
			return nil, &InputError{Field: FieldToRevision, Value: fmt.Sprint(rb.cfg.ToRevision), Err: fmt.Errorf("the Helm release %s has no such revision (it has %d..%d; see `helm history -n %s %s`)",
				manifest.ReleaseEnterprise, h[0].Version, cur.Version, rb.cfg.Namespace, manifest.ReleaseEnterprise)}
		}
		if target.Version == cur.Version {
			return nil, &InputError{Field: FieldToRevision, Value: fmt.Sprint(rb.cfg.ToRevision), Err: errors.New("it is the current revision: nothing to roll back")}
		}
	} else {
		for i := len(h) - 2; i >= 0; i-- {
			if plan.ChartFullName(h[i].Chart) != p.FromChart {
				target = h[i]
				break
			}
		}
		if target == nil {
			return nil, &InputError{Field: FieldToRevision, Needed: true, Err: fmt.Errorf("the history of %s holds no revision with another chart version than %s (see `helm history -n %s %s`)",
				manifest.ReleaseEnterprise, p.FromChart, rb.cfg.Namespace, manifest.ReleaseEnterprise)}
		}
	}
	p.ToRevision, p.ToChart, p.ToAppVersion = target.Version, plan.ChartFullName(target.Chart), appVersion(target)
	if rel := rb.releaseOf(target); rel != nil {
		p.ToRelease = rel.Name
	} else if rb.cfg.ToRevision == 0 {
		return nil, &InputError{Field: FieldToRevision, Needed: true, Purpose: "to roll back to it anyway",
			Err: fmt.Errorf("revision %d of %s (%s) matches no known TPE release", target.Version, manifest.ReleaseEnterprise, p.ToChart)}
	} else {
		p.Warnings = append(p.Warnings, fmt.Sprintf("revision %d (%s) matches no known TPE release", target.Version, p.ToChart))
	}
	var rec *upgrade.Record
	if rb.progress != nil {
		// A record that cannot be read only loses the explanation: list-backups still finds the backup.
		rec, _ = rb.progress.Load(ctx)
	}
	if w := stoppedBeforeTpe(rec, p); w != "" && rb.cfg.ToRevision == 0 {
		p.Warnings = append(p.Warnings, w)
	}
	if err := rb.findBackup(ctx, p, rec); err != nil {
		return nil, err
	}
	if rb.cfg.AllCharts {
		if err := rb.planOthers(p); err != nil {
			return nil, err
		}
	}
	p.Steps = append(p.Steps, fmt.Sprintf("helm rollback %s %d (%s → %s)", manifest.ReleaseEnterprise, p.ToRevision, p.FromChart, p.ToChart))
	for _, o := range p.OtherCharts {
		p.Steps = append(p.Steps, fmt.Sprintf("helm rollback %s %d (%s → %s)", o.ReleaseName, o.ToRevision, o.FromChart, o.ToChart))
	}
	p.Steps = append(p.Steps, "wait for every Deployment and StatefulSet of "+rb.cfg.Namespace,
		fmt.Sprintf("after confirmation: restore backup %s (deletes the current data)", p.Backup.Name))
	return p, nil
}

func appVersion(r *helmrelease.Release) string {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return ""
	}
	return r.Chart.Metadata.AppVersion
}

// releaseOf finds the newest known release whose enterprise chart is r's chart.
func (rb *runner) releaseOf(r *helmrelease.Release) *manifest.Release {
	if r.Chart == nil || r.Chart.Metadata == nil {
		return nil
	}
	var found *manifest.Release
	for _, m := range rb.cfg.Matrix.Releases {
		if m.Enterprise == r.Chart.Metadata.Version && r.Chart.Metadata.Name == manifest.ChartEnterprise {
			x := m
			found = &x
		}
	}
	return found
}

func (rb *runner) planOthers(p *Plan) error {
	var target *manifest.Release
	if p.ToRelease != "" {
		r, _ := rb.cfg.Matrix.Get(p.ToRelease)
		target = &r
	}
	if target == nil {
		return &InputError{Field: FieldAllCharts, Err: fmt.Errorf("revision %d of %s matches no known TPE release, so the versions of the other charts are unknown", p.ToRevision, manifest.ReleaseEnterprise)}
	}
	for _, c := range target.Charts()[:3] {
		h, err := plan.History(rb.d.Helm, c.ReleaseName)
		if err != nil {
			return err
		}
		if len(h) == 0 {
			return &InputError{Field: FieldAllCharts, Err: fmt.Errorf("the Helm release %s is not installed", c.ReleaseName)}
		}
		cur := h[len(h)-1]
		want := c.Chart + "-" + c.Version
		if plan.ChartFullName(cur.Chart) == want {
			continue
		}
		var to *helmrelease.Release
		for i := len(h) - 2; i >= 0; i-- {
			if plan.ChartFullName(h[i].Chart) == want {
				to = h[i]
				break
			}
		}
		if to == nil {
			return &InputError{Field: FieldAllCharts, Err: fmt.Errorf("the history of %s has no revision with %s", c.ReleaseName, want)}
		}
		p.OtherCharts = append(p.OtherCharts, ChartRollback{ReleaseName: c.ReleaseName, FromRevision: cur.Version, FromChart: plan.ChartFullName(cur.Chart), ToRevision: to.Version, ToChart: want})
	}
	if len(p.OtherCharts) > 0 {
		p.Warnings = append(p.Warnings, "{flag:all-charts}: charts 1–3 carry operators and CRDs that only move forward; Helm does not roll CRDs back, so the older operators will run against the newer CRD versions (strimzi kafka.strimzi.io, psmdb psmdb.percona.com, cert-manager.io)")
	}
	return nil
}

// run executes a rollback plan.
func (rb *runner) run(ctx context.Context, p *Plan) (*Result, error) {
	start := time.Now()
	res := &Result{Plan: p}
	do := func(name string, rev int) error {
		rbk := action.NewRollback(rb.d.Helm)
		rbk.Version, rbk.Timeout, rbk.MaxHistory = rev, rb.cfg.Timeout, 10
		rb.logf("helm rollback %s %d ...", name, rev)
		if err := rbk.Run(name); err != nil {
			return fmt.Errorf("helm rollback %s %d: %w", name, rev, err)
		}
		return nil
	}
	if err := do(manifest.ReleaseEnterprise, p.ToRevision); err != nil {
		return res, err
	}
	rb.markRolledBack(p)
	for _, o := range p.OtherCharts {
		if err := do(o.ReleaseName, o.ToRevision); err != nil {
			return res, err
		}
	}
	if rb.d.Wait != nil {
		rb.logf("waiting for the workloads of %s ...", rb.cfg.Namespace)
		if err := rb.d.Wait(ctx, rb.cfg.Namespace, rb.cfg.Timeout); err != nil {
			return res, fmt.Errorf("waiting after the rollback: %w; the backup %s was NOT restored: once the workloads are ready run `{cmd:rollback} {flag:backup} %s`", err, p.Backup.Name, p.Backup.Name)
		}
	}
	ok := false
	if rb.d.ConfirmRestore != nil {
		var err error
		ok, err = rb.d.ConfirmRestore(fmt.Sprintf("Restore backup %s into namespace %s? This DELETES the current data.", p.Backup.Name, rb.cfg.Namespace))
		if err != nil {
			return res, err
		}
	}
	if !ok {
		res.Message = fmt.Sprintf("%s rolled back to revision %d; backup %s NOT restored (not confirmed): restore it with `kubectl exec -n %s deploy/%s -- restore -e backup_name=%s`",
			manifest.ReleaseEnterprise, p.ToRevision, p.Backup.Name, rb.cfg.Namespace, backup.ControllerDeployment, p.Backup.Name)
		res.Elapsed = time.Since(start).Round(time.Millisecond).String()
		return res, nil
	}
	rb.logf("restoring backup %s ...", p.Backup.Name)
	if _, err := (backup.Controller{Exec: rb.d.Exec, Namespace: rb.cfg.Namespace}).Restore(ctx, p.Backup.Name); err != nil {
		return res, err
	}
	res.Restored = true
	res.Message = fmt.Sprintf("%s rolled back to revision %d (%s) and backup %s restored", manifest.ReleaseEnterprise, p.ToRevision, p.ToChart, p.Backup.Name)
	res.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return res, nil
}

// markRolledBack records in the progress record that tpe was rolled back after its run: the run
// cannot be resumed any more (its steps describe charts tpe no longer runs), and the next
// install/upgrade starts afresh from what is installed.
func (rb *runner) markRolledBack(p *Plan) {
	if rb.progress == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rec, err := rb.progress.Load(ctx)
	if err != nil || rec == nil || (rec.State != upgrade.RunFailed && rec.State != upgrade.RunDone) {
		return
	}
	rec.State, rec.RolledBackTo, rec.UpdatedAt = upgrade.RunRolledBack, p.ToRelease, time.Now().UTC()
	if rec.RolledBackTo == "" {
		rec.RolledBackTo = p.ToChart
	}
	if err := rb.progress.Save(ctx, rec); err != nil {
		rb.logf("warning: %v", err)
	}
}

// Deps are the clients and the user-facing seams of a rollback.
type Deps struct {
	Helm *action.Configuration
	Kube kubernetes.Interface
	Exec podexec.Executor
	Log  func(format string, a ...any)
	// Warn receives the plan's warnings; ShowPlan shows the plan before the confirmation.
	Warn     func(string)
	ShowPlan func(*Plan)
	// Confirm asks before the rollback (nil: yes); ConfirmRestore before the restore (nil: no restore).
	Confirm        func(prompt string) (bool, error)
	ConfirmRestore func(prompt string) (bool, error)
	// Wait replaces pkg/wait (tests); nil = the real one.
	Wait func(ctx context.Context, namespace string, timeout time.Duration) error
}

// Config is what the user asked for.
type Config struct {
	Namespace  string
	Matrix     *manifest.Matrix
	ToRevision int
	Backup     string
	AllCharts  bool
	DryRun     bool
	Timeout    time.Duration
}

// Outcome is what a rollback did: its plan, and its result when it ran (nil for a dry run or
// when it stopped before the rollback).
type Outcome struct {
	Plan   *Plan
	Result *Result
}

// Run is the rollback use case: plan (revision and backup), show, and unless a dry run, confirm,
// roll back, wait and restore.
func Run(ctx context.Context, d Deps, cfg Config) (*Outcome, error) {
	rb := &runner{d: d, cfg: cfg, progress: &upgrade.Store{Kube: d.Kube, Namespace: cfg.Namespace}}
	if rb.d.Wait == nil {
		rb.d.Wait = func(ctx context.Context, ns string, timeout time.Duration) error {
			_, err := wait.Run(ctx, d.Kube, wait.Options{Namespace: ns, For: wait.ForRollout, Timeout: timeout})
			return err
		}
	}
	p, err := rb.plan(ctx)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Plan: p}
	for _, w := range p.Warnings {
		if d.Warn != nil {
			d.Warn(w)
		}
	}
	if cfg.DryRun {
		return out, nil
	}
	if d.ShowPlan != nil {
		d.ShowPlan(p)
	}
	if d.Confirm != nil {
		ok, err := d.Confirm(fmt.Sprintf("Roll back %s in namespace %s to revision %d?", manifest.ReleaseEnterprise, cfg.Namespace, p.ToRevision))
		if err != nil {
			return out, err
		}
		if !ok {
			return out, fmt.Errorf("not confirmed: nothing was changed")
		}
	}
	out.Result, err = rb.run(ctx, p)
	return out, err
}

// Config fields named by an InputError; the command words them with its flag names.
const (
	FieldToRevision = "ToRevision"
	FieldBackup     = "Backup"
	FieldAllCharts  = "AllCharts"
)

// InputError is a Config field at fault: its Value is wrong, or (Needed) the run cannot go on
// without it (Purpose says what giving it does). Its message names the field; the command words it
// with its flag (Word).
type InputError struct {
	Field, Value string
	Needed       bool
	Purpose      string
	Err          error
}

func (e *InputError) Error() string { return e.Word(e.Field) }
func (e *InputError) Unwrap() error { return e.Err }

// Word words the error with name for the field ("--to-revision").
func (e *InputError) Word(name string) string {
	if e.Needed {
		msg := fmt.Sprintf("%v: pass %s", e.Err, name)
		if e.Purpose != "" {
			msg += " " + e.Purpose
		}
		return msg
	}
	if e.Value != "" {
		name += " " + e.Value
	}
	return fmt.Sprintf("%s: %v", name, e.Err)
}
