package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/check"
	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/redact"
	"github.com/thingpark-tools/kubectl-tpe/pkg/release"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
	"github.com/thingpark-tools/kubectl-tpe/pkg/wait"
)

// EnvStopAfter is a test hook: the run stops (as if interrupted) after the chart step of this
// Helm release. It is not a flag because no user needs it.
const EnvStopAfter = "HELM_TPE_TEST_STOP_AFTER"

func init() {
	commandAdders = append(commandAdders, func(root *cobra.Command, env *Env) {
		root.AddCommand(NewCmdRun(env, release.ActionInstall), NewCmdRun(env, release.ActionUpgrade))
	})
}

// RunOptions are the options of `helm tpe install` and `helm tpe upgrade`.
type RunOptions struct {
	Verb        string
	Target      targetFlags
	Repo        repoFlags
	ValueFiles  []string
	Yes         bool
	DryRun      bool
	ShowSecrets bool
	Resume      bool
	SkipBackup  bool
	Timeout     time.Duration
	PUMTimeout  time.Duration
	PUMInterval time.Duration
	Output      string

	env    *Env
	format cli.Format
	vals   values.Values
	start  time.Time
	genericiooptions.IOStreams
}

var runLong = templates.LongDesc(`
	%[1]s the four charts of a TPE release, in order and guarded, following the vendor's procedure
	(seed 003): thingpark-data-controllers (tpe-data-controllers), thingpark-data (tpe-data),
	thingpark-application-controllers (tpe-controllers; thingpark-enterprise-controllers up to 7.2.1)
	and thingpark-enterprise (tpe), through every hop of the plan (see ` + "`helm tpe plan`" + `).

	Before anything changes: the values are validated (global.installationId set, the TLS certificate
	and the backup storage checked with the same code as ` + "`kubectl tpe preflight`" + `), the plan and the
	downtime impacts are shown and confirmed (--yes; without a terminal --yes is required), and for an
	upgrade the backup tooling of deploy/thingpark-enterprise-controller must answer: an on-demand
	backup is taken and its name recorded (--skip-backup skips it, loudly).

	Each chart is installed or upgraded with Helm's SDK from the repository of ` + "`helm tpe repo add`" + `
	(or --repo-url), with your values files, then every Deployment and StatefulSet of the namespace is
	waited for. After the last chart of a hop the post-upgrade procedure (deploy/pum) must reach its
	verdict: ABORTED or a failed wait stops the run with the reason and the command to run next.

	Progress is recorded in the ConfigMap tpe-upgrade-progress (never any secret): an interrupted or
	failed run continues with --resume from the step that did not finish, and running a finished
	upgrade again changes nothing. --dry-run renders all charts against the cluster (server-side) and
	shows what would change per chart, without any change: the secrets of the values files (the
	installation ID, backup credentials, the TLS key, any password, secret, token or key) are masked
	wherever a chart copies them, by a tag that is the same on both sides, so a changed secret shows
	as a changed line without its value; Secret objects show only which keys were added, removed or
	changed. --show-secrets shows them in clear (with a warning). Progress lines (step n/N, chart, elapsed)
	go to stderr; the summary goes to stdout (-o json for pipelines).

	Exit codes: 0 done (or nothing to do), 2 a step failed or the target cannot be reached, 1 error.`)

// NewCmdRun builds `helm tpe install` or `helm tpe upgrade`.
func NewCmdRun(env *Env, verb string) *cobra.Command {
	o := &RunOptions{Verb: verb, Timeout: 20 * time.Minute, PUMTimeout: 60 * time.Minute, PUMInterval: 5 * time.Second,
		Output: "table", env: env, IOStreams: env.Streams}
	title := strings.ToUpper(verb[:1]) + verb[1:]
	cmd := &cobra.Command{
		Use:   verb + " --to RELEASE -f VALUES... [--yes] [--dry-run] [--resume]",
		Short: title + " a TPE release: the four charts in order, with backup, waits, progress and resume",
		Long:  fmt.Sprintf(runLong, title),
		Example: templates.Examples(fmt.Sprintf(`
			# See what %[1]s would change, without changing anything
			helm tpe %[1]s --to v7.3.1 -f values-data-stack.yaml -f values-thingpark-stack.yaml --dry-run

			# The same, with Secret data and the values' secrets in clear (never paste this in a ticket)
			helm tpe %[1]s --to v7.3.1 -f values.yaml --dry-run --show-secrets

			# Run it, answering the confirmation
			helm tpe %[1]s --to v7.3.1 -f values-data-stack.yaml -f values-thingpark-stack.yaml

			# In a pipeline: no prompt, JSON summary on stdout
			helm tpe %[1]s --to v7.3.1 -f values.yaml --yes -o json

			# Continue an interrupted run
			helm tpe %[1]s --to v7.3.1 -f values.yaml --resume`, verb)),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Target.add(cmd, true)
	o.Repo.add(cmd)
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files, given to every chart (repeatable, later files win)")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "render every chart against the cluster and show the changes; change nothing")
	cmd.Flags().BoolVar(&o.ShowSecrets, "show-secrets", false, "with --dry-run: show Secret data and the secret values of the values files in the diff (masked by default)")
	cmd.Flags().BoolVar(&o.Resume, "resume", false, "continue the interrupted run recorded in ConfigMap "+release.ProgressConfigMap)
	cmd.Flags().BoolVar(&o.SkipBackup, "skip-backup", false, "do not take the upgrade backup (there will be nothing to roll back to)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "timeout of each chart and of each wait")
	cmd.Flags().DurationVar(&o.PUMTimeout, "pum-timeout", o.PUMTimeout, "how long to wait for the post-upgrade procedure's verdict")
	cmd.Flags().DurationVar(&o.PUMInterval, "pum-interval", o.PUMInterval, "how often to read the post-upgrade status")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "summary format: table, json or yaml")
	return cmd
}

// Validate checks the flags (pure).
func (o *RunOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.DryRun && o.Resume {
		return fmt.Errorf("--dry-run cannot be used with --resume")
	}
	if o.ShowSecrets && !o.DryRun {
		return fmt.Errorf("--show-secrets only applies to --dry-run")
	}
	if len(o.ValueFiles) == 0 && !o.Resume {
		return fmt.Errorf("-f is required: pass your values files (global.installationId at least); `helm tpe values get` saves the installed ones")
	}
	if o.Timeout <= 0 || o.PUMTimeout <= 0 || o.PUMInterval <= 0 {
		return fmt.Errorf("--timeout, --pum-timeout and --pum-interval must be positive")
	}
	return nil
}

func (o *RunOptions) logf(format string, a ...any) {
	el := time.Since(o.start).Round(time.Second)
	fmt.Fprintf(o.ErrOut, "[%s] %s\n", el, fmt.Sprintf(format, a...))
}

// validateValues runs the values checks of preflight; a failure stops before any change.
func (o *RunOptions) validateValues() error {
	rep := check.NewReport("Values")
	cs, err := values.Checks(o.vals, "", time.Time{})
	if err != nil {
		return fmt.Errorf("values %s: %w", values.KeyTLS, err)
	}
	for _, c := range cs {
		// Upgrade backups are mandatory (seed 000); an install, or --skip-backup, only warns.
		if c.Category == values.CategoryBackup && c.Status == check.Fail && (o.SkipBackup || o.Verb == release.ActionInstall) {
			c.Status = check.Warn
		}
		rep.Add(c)
	}
	if rep.Worst() == check.Fail {
		_ = check.Write(o.ErrOut, cli.FormatTable, rep, false)
		return cli.Failed(fmt.Errorf("the values files (%s) fail the checks above: nothing was changed", strings.Join(o.ValueFiles, ", ")))
	}
	for _, c := range rep.Checks {
		if c.Status == check.Warn {
			fmt.Fprintf(o.ErrOut, "warning: %s\n", c.Message)
		}
	}
	return nil
}

// Run validates, shows the plan, confirms and runs it.
func (o *RunOptions) Run(ctx context.Context) error {
	o.start = time.Now()
	if len(o.ValueFiles) > 0 {
		var err error
		if o.vals, err = values.Load(o.ValueFiles); err != nil {
			return err
		}
		if err := o.validateValues(); err != nil {
			return err
		}
	}
	cl, err := o.env.Cluster()
	if err != nil {
		return err
	}
	store := release.ProgressStore{Kube: cl.Clients.Kube, Namespace: cl.Namespace}
	prog, err := store.Load(ctx)
	if err != nil {
		return err
	}
	repo, err := o.Repo.open(o.env, o.vals, o.In, o.ErrOut)
	if err != nil {
		return err
	}
	if prog != nil && prog.State != release.RunDone && !o.Resume && !o.DryRun {
		return cli.Failed(fmt.Errorf("an unfinished %s to %s (started %s) is recorded in ConfigMap %s/%s: continue it with `%s --resume`, or delete that ConfigMap to start over",
			prog.Action, prog.Target, prog.StartedAt.Format(time.RFC3339), cl.Namespace, release.ProgressConfigMap, o.retryCommand(prog.Target)))
	}
	var plan *release.Plan
	resuming := o.Resume && prog != nil && prog.State != release.RunDone
	if resuming {
		if len(o.ValueFiles) == 0 {
			return fmt.Errorf("--resume needs the same values files (-f) as the interrupted run: %s", strings.Join(prog.ValueFiles, ", "))
		}
		m, err := manifest.Load()
		if err != nil {
			return err
		}
		target, err := o.Target.resolve(m)
		if err != nil {
			return err
		}
		plan = &release.Plan{Namespace: cl.Namespace, Installed: prog.From, Target: target.Name, Action: prog.Action, Reachable: true}
		fmt.Fprintf(o.ErrOut, "resuming the %s to %s started %s (backup %s)\n", prog.Action, prog.Target, prog.StartedAt.Format(time.RFC3339), orNone(prog.Backup))
	} else {
		plan, err = computePlan(ctx, o.env, &o.Target, repo, o.ValueFiles, o.ErrOut)
		if err != nil {
			return err
		}
		if err := o.checkVerb(plan); err != nil {
			return err
		}
		if plan.Action != release.ActionNone || !plan.Reachable {
			_ = writePlan(o.ErrOut, cli.FormatTable, plan, false)
		}
		if !plan.Reachable || plan.Report.Worst() == check.Fail {
			return cli.Failed(fmt.Errorf("the plan to %s has failed checks (above): nothing was changed", plan.Target))
		}
	}
	// The repository and its credentials are checked before anything changes: a wrong
	// installation ID must not leave a half-started run behind.
	var wanted []manifest.Release
	for _, h := range plan.Path() {
		wanted = append(wanted, h.To)
	}
	if resuming {
		m, _ := manifest.Load()
		if r, err := o.Target.resolve(m); err == nil {
			wanted = append(wanted, r)
		}
	}
	if err := repo.CheckCharts(wanted...); err != nil {
		return redact.New(repo.ID).Error(fmt.Errorf("%w: nothing was changed", err))
	}
	// Every secret of the values (installation ID, backup credentials, TLS key, passwords...) is
	// masked in progress lines, errors, the progress record and the dry-run diff.
	red := redact.NewTagged(append(redact.FromValues(o.vals), redact.Secret{Path: "installation ID", Value: repo.ID}))
	stopAfter := os.Getenv(EnvStopAfter)
	runner := &release.Runner{Action: cl.Action, Kube: cl.Clients.Kube, Exec: cl.Exec, Namespace: cl.Namespace, Charts: repo,
		Values: o.vals, ValueFiles: o.ValueFiles, Timeout: o.Timeout, SkipBackup: o.SkipBackup, Resume: o.Resume,
		StopAfter: stopAfter, Secrets: red.Secrets(), Log: func(f string, a ...any) { o.logf("%s", red.String(fmt.Sprintf(f, a...))) },
		ShowSecrets: o.ShowSecrets, RetryCommand: o.retryCommand(plan.Target)}
	runner.Wait = func(ctx context.Context, ns string, timeout time.Duration) error {
		last := ""
		_, err := wait.Run(ctx, cl.Clients.Kube, wait.Options{Namespace: ns, For: wait.ForRollout, Timeout: timeout,
			Progress: func(s wait.Snapshot) {
				if sum := s.Summary(); sum != last && !s.Done {
					last = sum
					o.logf("  waiting: %s", sum)
				}
			}})
		return err
	}
	runner.PUM = func(ctx context.Context, ns string) (*pum.Status, error) {
		ctx, cancel := context.WithTimeout(ctx, o.PUMTimeout)
		defer cancel()
		last := ""
		return pum.Wait(ctx, cl.Exec, ns, o.PUMInterval, func(s *pum.Status) {
			if v := string(s.Verdict); v != last {
				last = v
				o.logf("  post-upgrade procedure: %s (%d request(s))", v, len(s.Entries))
			}
		})
	}
	if o.DryRun {
		if o.ShowSecrets {
			fmt.Fprintln(o.ErrOut, "WARNING: --show-secrets: the diff below shows Secret data and the secret values of your values files (installation ID, keys, passwords) in clear; do not paste it in a ticket")
		}
		diffs, err := runner.DryRun(ctx, plan)
		if err != nil {
			return red.Error(err)
		}
		return writeDiffs(o.Out, o.format, plan, diffs)
	}
	if plan.Action != release.ActionNone || resuming {
		if !o.Yes {
			if !cli.IsTerminal(o.In) {
				return fmt.Errorf("refusing to %s without confirmation: stdin is not a terminal; pass --yes", o.Verb)
			}
			ok, err := cli.Confirm(o.In, o.ErrOut, fmt.Sprintf("%s namespace %s to %s?", strings.ToUpper(o.Verb[:1])+o.Verb[1:], cl.Namespace, plan.Target), false)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("not confirmed: nothing was changed")
			}
		}
	}
	res, err := runner.Run(ctx, plan)
	if res != nil {
		if werr := writeRunResult(o.Out, o.format, res); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		var se *release.StepError
		if errors.As(err, &se) {
			return cli.Failed(red.Error(err))
		}
		return red.Error(err)
	}
	return nil
}

// checkVerb refuses install on an installed namespace and upgrade on an empty one.
func (o *RunOptions) checkVerb(p *release.Plan) error {
	switch {
	case o.Verb == release.ActionInstall && p.Action == release.ActionUpgrade:
		return fmt.Errorf("namespace %s already holds %s: use `helm tpe upgrade --to %s`", p.Namespace, p.Installed, p.Target)
	case o.Verb == release.ActionUpgrade && p.Action == release.ActionInstall:
		return fmt.Errorf("namespace %s holds no TPE release: use `helm tpe install --to %s`", p.Namespace, p.Target)
	}
	return nil
}

func (o *RunOptions) retryCommand(target string) string {
	parts := []string{"helm tpe", o.Verb, "--to", target}
	if ns := o.env.Settings.Namespace(); ns != "" {
		parts = append(parts, "-n", ns)
	}
	for _, f := range o.ValueFiles {
		parts = append(parts, "-f", f)
	}
	if o.Target.Manifest != "" {
		parts = append(parts, "--manifest", o.Target.Manifest)
	}
	return strings.Join(parts, " ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func writeRunResult(w io.Writer, f cli.Format, r *release.RunResult) error {
	if f != cli.FormatTable {
		return cli.WriteData(w, f, r)
	}
	fmt.Fprintf(w, "%s\n", r.Message)
	if len(r.Steps) == 0 {
		return nil
	}
	fmt.Fprintf(w, "Target: %s   State: %s   Backup: %s   Elapsed: %s\n\n", r.Target, r.State, orNone(r.Backup), r.Elapsed)
	t := cli.NewTable(w, "STEP", "HOP", "WHAT", "STATE", "REVISION", "ELAPSED", "MESSAGE")
	for _, s := range r.Steps {
		rev := ""
		if s.Revision > 0 {
			rev = fmt.Sprint(s.Revision)
		}
		hop := ""
		if s.Hop > 0 {
			hop = fmt.Sprintf("%d (%s)", s.Hop, s.HopTo)
		}
		t.Row(fmt.Sprint(s.N), hop, s.Label(), s.State, rev, s.Elapsed, s.Message)
	}
	return t.Render()
}

// DryRunResult is the -o json/yaml output of --dry-run.
type DryRunResult struct {
	Target string              `json:"target"`
	Action string              `json:"action"`
	Charts []release.ChartDiff `json:"charts"`
}

func writeDiffs(w io.Writer, f cli.Format, p *release.Plan, diffs []release.ChartDiff) error {
	if f != cli.FormatTable {
		return cli.WriteData(w, f, DryRunResult{Target: p.Target, Action: p.Action, Charts: diffs})
	}
	if len(diffs) == 0 {
		fmt.Fprintf(w, "dry run: %s is installed, nothing would change\n", p.Target)
		return nil
	}
	for _, d := range diffs {
		fmt.Fprintf(w, "=== hop %d: %s %s %s (%s): %d added, %d removed, %d changed object(s)\n", d.Hop, d.ReleaseName, d.Chart, d.Version, d.Action, d.Added, d.Removed, d.Changed)
		fmt.Fprint(w, d.Diff)
	}
	fmt.Fprintf(w, "dry run: nothing was changed (%s)\n", hopNames(p))
	return nil
}

var _ podexec.Executor = podexec.Kube{}
