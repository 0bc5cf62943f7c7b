package upgrade

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmrelease "helm.sh/helm/v3/pkg/release"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/thingpark-tools/kubectl-tpe/pkg/adminstep"
	"github.com/thingpark-tools/kubectl-tpe/pkg/charts"
	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// Repository is where a run takes the charts from: the chart repository or a release bundle.
type Repository = charts.Repository

// Deps are the clients and the user-facing seams of a run.
type Deps struct {
	Helm    *action.Configuration
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	Exec    podexec.Executor
	// Server is the cluster's version (zero when it could not be read).
	Server prereq.ServerVersion
	// Charts opens the chart repository once the values are loaded (the installation ID may be
	// in them).
	Charts func(values.Values) (Repository, error)
	// Admin reads the vendor's manifests the plan judges the CRD steps against (nil: they cannot
	// be verified).
	Admin adminstep.Source
	// Log receives progress lines; Note receives plain notices.
	Log  func(format string, a ...any)
	Note func(string)
	// ShowPlan shows the plan before anything changes (stderr in the command).
	ShowPlan func(*plan.Plan)
	// Confirm asks before the run; nil means yes (--yes).
	Confirm func(prompt string) (bool, error)
	// Wait and PUM replace the waits of pkg/wait and pkg/pum (tests); nil = the real ones.
	Wait func(ctx context.Context, namespace string, timeout time.Duration) error
	PUM  func(ctx context.Context, namespace string) (*pum.Status, error)
	// AfterStep is called after each step that ended done or skipped; an error stops the run there
	// as interrupted (ErrInterrupted), to be continued with --resume. nil: the run goes on. Tests
	// use it to interrupt a run at a chosen step (StopAfter).
	AfterStep func(Step) error
}

// StopAfter is an AfterStep hook that interrupts a run after the chart step of the Helm release
// name, as a Ctrl-C there would.
func StopAfter(name string) func(Step) error {
	return func(st Step) error {
		if st.Kind == StepChart && st.ReleaseName == name {
			return fmt.Errorf("stopped after %s", name)
		}
		return nil
	}
}

// Config is what the user asked for.
type Config struct {
	// Verb is what the user ran: plan.ActionInstall or plan.ActionUpgrade.
	Verb      plan.Action
	Namespace string
	Matrix    *manifest.Matrix
	// To is the target release (resolved once by the caller).
	To         manifest.Release
	ValueFiles []string
	DryRun     bool
	// ShowSecrets shows Secret data and the values' secrets in the dry-run diff (--show-secrets).
	ShowSecrets bool
	Resume      bool
	SkipBackup  bool
	// AckAdminSteps acknowledges the cluster-admin steps the plan cannot verify (plan.Unverifiable).
	AckAdminSteps bool
	// Timeout bounds each chart and each wait; PUMTimeout and PUMInterval the post-upgrade gate.
	Timeout     time.Duration
	PUMTimeout  time.Duration
	PUMInterval time.Duration
	// RetryCommand is the command that runs again to a target ("helm tpe upgrade --to T -f v.yaml").
	RetryCommand func(target string) string
}

// Outcome is what a run did: the plan, and the dry run's diffs or the run's result.
type Outcome struct {
	Plan *plan.Plan
	// Resumed is the record of the run that was resumed (nil otherwise).
	Resumed *Record
	Diffs   []ChartDiff
	Result  *Result
}

// BlockedError stops a run before anything changed: failed plan checks, an unfinished run.
type BlockedError struct{ Msg string }

// Error implements error.
func (e *BlockedError) Error() string { return e.Msg }

// Run is the install/upgrade use case: it reads the progress record once, reads what the plan
// needs once (plan.Load: the values, the installed releases, the charts) and computes the plan
// once (the same plan.New for a fresh run and for --resume, and for the plan command), guards (plan checks
// with plan.Blocking, the chart repository), then runs the dry run, or confirms and runs or
// resumes. Nothing changes in the cluster before the confirmation; a dry run changes nothing.
func Run(ctx context.Context, d Deps, cfg Config) (*Outcome, error) {
	d = d.withDefaults()
	store := &Store{Kube: d.Kube, Namespace: cfg.Namespace}
	rec, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	resuming := cfg.Resume && rec.Unfinished()
	if !cfg.DryRun && !cfg.Resume && rec.Unfinished() {
		return nil, CheckRecord(rec, false, cfg.To.Name, "", cfg.Namespace, cfg.RetryCommand)
	}
	if resuming && len(cfg.ValueFiles) == 0 {
		return nil, fmt.Errorf("{flag:resume} needs the same values files ({flag:values}) as the interrupted run: %s", strings.Join(rec.ValueFiles, ", "))
	}
	// The plan reads the values, what is installed and the charts once (the same plan.Load and
	// plan.New as the plan command). A repository that cannot be opened is reported after the
	// plan's checks, so that a values problem (the more likely cause, e.g. no installation ID) is
	// shown first.
	var repo Repository
	ld, err := plan.Load(ctx, plan.Deps{Helm: d.Helm, Kube: d.Kube, Dynamic: d.Dynamic, Server: d.Server, Admin: d.Admin,
		Charts: func(v values.Values) (charts.Source, error) {
			r, err := d.Charts(v)
			if err != nil {
				return nil, err
			}
			repo = r
			return r, nil
		}},
		plan.Config{Namespace: cfg.Namespace, Matrix: cfg.Matrix, To: cfg.To, ValueFiles: cfg.ValueFiles, NeedCharts: true, SkipBackup: cfg.SkipBackup})
	if err != nil {
		return nil, err
	}
	vals, repoErr, in := ld.Values, ld.ChartsErr, ld.Input
	id := ""
	if repo != nil {
		id = repo.InstallationID()
	}
	last := lastReleases(in.State)
	// One redactor for the run: every secret of the values (installation ID, backup credentials,
	// TLS key, passwords...) is masked in the plan, progress lines, errors, the progress record
	// and the dry-run diff, with the same tag everywhere.
	red := runRedactor(id, vals, last)
	in.Redactor = red
	p := plan.New(ctx, in)
	out := &Outcome{Plan: p}
	if resuming {
		out.Resumed = rec
		d.Note(fmt.Sprintf("resuming the %s to %s started %s (backup %s)", rec.Action, rec.Target, rec.StartedAt.Format(time.RFC3339), text.OrNone(rec.Backup)))
	} else {
		if err := checkVerb(cfg.Verb, p); err != nil {
			return out, err
		}
		if p.Action != plan.ActionNone || !p.Reachable {
			d.ShowPlan(p)
		}
	}
	blocking := p.Blocking(resuming)
	if repoErr != nil && !hasCategory(blocking, plan.CategoryValues) {
		return out, repoErr
	}
	if len(blocking) > 0 || !resuming && !p.Reachable {
		return out, &BlockedError{Msg: fmt.Sprintf("the plan to %s has failed checks (above): nothing was changed", p.Target)}
	}
	if steps := p.Unverifiable(); len(steps) > 0 && !cfg.AckAdminSteps && !cfg.DryRun && !resuming {
		return out, &BlockedError{Msg: fmt.Sprintf("the plan to %s has cluster-admin steps that cannot be verified: %s; make sure a cluster admin did them, then pass {flag:ack-admin-steps} (nothing was changed)",
			p.Target, strings.Join(steps, "; "))}
	}
	// The repository and its credentials are checked before anything changes: a wrong
	// installation ID must not leave a half-started run behind.
	if err := repo.CheckCharts(append(p.Releases(), cfg.To)...); err != nil {
		return out, red.Error(fmt.Errorf("%w: nothing was changed", err))
	}
	r := &runner{d: d, cfg: cfg, repo: repo, vals: vals, red: red, store: store, last: last}
	if cfg.RetryCommand != nil {
		r.retry = cfg.RetryCommand(p.Target)
	}
	if r.d.Wait == nil {
		r.d.Wait = r.waitRollout
	}
	if r.d.PUM == nil {
		r.d.PUM = func(ctx context.Context, ns string) (*pum.Status, error) {
			return r.waitPUM(ctx, ns, cfg.PUMTimeout, cfg.PUMInterval)
		}
	}
	if cfg.DryRun {
		diffs, err := r.dryRun(ctx, p)
		out.Diffs = diffs
		return out, redactErr(red, err)
	}
	if (p.Action != plan.ActionNone || resuming) && d.Confirm != nil {
		verb := string(cfg.Verb)
		ok, err := d.Confirm(fmt.Sprintf("%s namespace %s to %s?", strings.ToUpper(verb[:1])+verb[1:], cfg.Namespace, p.Target))
		if err != nil {
			return out, err
		}
		if !ok {
			return out, fmt.Errorf("not confirmed: nothing was changed")
		}
	}
	res, err := r.run(ctx, p, rec, cfg.Resume)
	out.Result = res
	return out, redactErr(red, err)
}

// runRedactor is the run's one redactor: the installation ID of the chart repository (first, so
// that it is tagged "installation ID" wherever it shows, the values' copy of it too), the secrets
// of the values, and those of the installed releases' values (a rotated key is in the installed
// manifests only).
func runRedactor(installationID string, vals values.Values, last map[string]*helmrelease.Release) *redact.Redactor {
	secrets := []redact.Secret{{Path: "installation ID", Value: installationID}}
	secrets = append(secrets, redact.FromValues(vals)...)
	for _, n := range manifest.ReleaseNames {
		if rel := last[n]; installed(rel) {
			secrets = append(secrets, redact.FromValues(rel.Config)...)
		}
	}
	return redact.NewTagged(secrets)
}

// lastReleases is the newest revision of each release as the plan's state read it.
func lastReleases(st *plan.State) map[string]*helmrelease.Release {
	out := map[string]*helmrelease.Release{}
	for _, n := range manifest.ReleaseNames {
		if r := st.Last(n); r != nil {
			out[n] = r
		}
	}
	return out
}

func hasCategory(cs []check.Check, category string) bool {
	for _, c := range cs {
		if c.Category == category {
			return true
		}
	}
	return false
}

func (d Deps) withDefaults() Deps {
	if d.Log == nil {
		d.Log = func(string, ...any) {}
	}
	if d.Note == nil {
		d.Note = func(string) {}
	}
	if d.ShowPlan == nil {
		d.ShowPlan = func(*plan.Plan) {}
	}
	return d
}

// checkVerb refuses install on an installed namespace and upgrade on an empty one.
func checkVerb(verb plan.Action, p *plan.Plan) error {
	switch {
	case verb == plan.ActionInstall && (p.Action == plan.ActionUpgrade || p.Action == plan.ActionDowngrade):
		return fmt.Errorf("namespace %s already holds %s: use `{cmd:upgrade} {flag:to} %s`", p.Namespace, p.Installed, p.Target)
	case verb == plan.ActionUpgrade && p.Action == plan.ActionInstall:
		return fmt.Errorf("namespace %s holds no TPE release: use `{cmd:install} {flag:to} %s`", p.Namespace, p.Target)
	}
	return nil
}

// waitRollout waits for every Deployment and StatefulSet of the namespace (pkg/wait), logging
// each change of the summary. Every wait of a run consults one long-lived watch (started by the
// first wait, stopped at the end of the run), and judges only once that watch has seen the
// workloads the chart just wrote.
func (r *runner) waitRollout(ctx context.Context, ns string, timeout time.Duration) error {
	if r.watch == nil {
		// The run shows a summary while it waits; reasons are listed only to explain a timeout.
		r.watch = wait.NewWatch(r.d.Kube, wait.WatchConfig{Namespace: ns, ExplainOnTimeout: true})
	}
	var written []wait.Written
	if r.recorder != nil {
		written = r.recorder.take()
	}
	last := ""
	_, err := r.watch.Wait(ctx, wait.Options{Namespace: ns, For: wait.ForRollout, Timeout: timeout, After: written,
		Progress: func(s wait.Snapshot) {
			if sum := s.Summary(); sum != last && !s.Done {
				last = sum
				r.logf("  waiting: %s", sum)
			}
		}})
	return err
}

func (r *runner) stopWatch() {
	if r.watch != nil {
		r.watch.Stop()
		r.watch = nil
	}
}

// waitPUM waits for the post-upgrade procedure's verdict (pkg/pum), logging each new verdict.
func (r *runner) waitPUM(ctx context.Context, ns string, timeout, interval time.Duration) (*pum.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := ""
	return pum.Wait(ctx, r.d.Exec, ns, interval, func(s *pum.Status) {
		if v := string(s.Verdict); v != last {
			last = v
			r.logf("  post-upgrade procedure: %s (%d request(s))", v, len(s.Entries))
		}
	})
}

// Failed reports whether err means "ran, but a check or a step failed" (exit code 2) rather than
// an error.
func Failed(err error) bool {
	var be *BlockedError
	var se *StepError
	var rf *redactedFailure
	return errors.As(err, &be) || errors.As(err, &se) || errors.As(err, &rf)
}

// redactedFailure is a failure whose message held a secret: the message is masked, the chain
// dropped, and Failed still knows it.
type redactedFailure struct{ msg string }

func (e *redactedFailure) Error() string { return e.msg }

// redactErr masks the secrets of err's message, keeping whether it is a failure.
func redactErr(red *redact.Redactor, err error) error {
	if err == nil {
		return nil
	}
	out := red.Error(err)
	if out.Error() != err.Error() && Failed(err) {
		return &redactedFailure{msg: out.Error()}
	}
	return out
}
