package helmtpe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/plan"
	"github.com/thingpark-tools/kubectl-tpe/pkg/upgrade"
	"github.com/thingpark-tools/kubectl-tpe/pkg/values"
)

// afterStep is the run's upgrade.Deps.AfterStep: nil in the plugin. The e2e tests' build of the
// plugin (build tag e2e, e2ehook.go) sets it to interrupt a run at a chosen step.
var afterStep func(upgrade.Step) error

// RunOptions are the options of `helm tpe install` and `helm tpe upgrade`.
type RunOptions struct {
	Verb        plan.Action
	Target      targetFlags
	Repo        repoFlags
	ValueFiles  []string
	Yes         bool
	DryRun      bool
	ShowSecrets bool
	Resume      bool
	SkipBackup  bool
	AckAdmin    bool
	Timeout     time.Duration
	PUMTimeout  time.Duration
	PUMInterval time.Duration
	Output      string

	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdRun builds `helm tpe install` or `helm tpe upgrade`.
func NewCmdRun(env *Env, verb plan.Action) *cobra.Command {
	o := &RunOptions{Verb: verb, Timeout: 20 * time.Minute, PUMTimeout: 60 * time.Minute, PUMInterval: 5 * time.Second,
		Output: "table", env: env, IOStreams: env.Streams}
	title := strings.ToUpper(string(verb[:1])) + string(verb[1:])
	cmd := &cobra.Command{
		Use:   string(verb) + " --to RELEASE|--bundle FILE -f VALUES... [--yes] [--dry-run] [--resume]",
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
			helm tpe %[1]s --to v7.3.1 -f values.yaml --resume

			# At a site without internet access: the charts from a release bundle (helm tpe bundle create)
			helm tpe %[1]s --bundle tpe-v7.3.1.tar.gz -f values.yaml`, verb)),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Target.add(cmd, false)
	o.Repo.add(cmd)
	o.Repo.addBundle(cmd)
	cmd.Flags().StringArrayVarP(&o.ValueFiles, "values", "f", nil, "values files, given to every chart (repeatable, later files win)")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "render every chart against the cluster and show the changes; change nothing")
	cmd.Flags().BoolVar(&o.ShowSecrets, "show-secrets", false, "with --dry-run: show Secret data and the secret values of the values files in the diff (masked by default)")
	cmd.Flags().BoolVar(&o.Resume, "resume", false, "continue the interrupted run recorded in ConfigMap "+upgrade.ConfigMap)
	cmd.Flags().BoolVar(&o.SkipBackup, "skip-backup", false, "do not take the upgrade backup (there will be nothing to roll back to)")
	cmd.Flags().BoolVar(&o.AckAdmin, "ack-admin-steps", false, "acknowledge the cluster-admin steps the plan cannot verify (manual or inferred steps; see helm tpe plan)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "timeout of each chart and of each wait")
	cmd.Flags().DurationVar(&o.PUMTimeout, "pum-timeout", o.PUMTimeout, "how long to wait for the post-upgrade procedure's verdict")
	cmd.Flags().DurationVar(&o.PUMInterval, "pum-interval", o.PUMInterval, "how often to read the post-upgrade status")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "summary format: table, wide, json or yaml")
	return cmd
}

// Validate checks the flags (pure).
func (o *RunOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if err := o.Repo.validateSource(&o.Target, ""); err != nil {
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

// Run feeds upgrade.Run with the flags, the cluster and the terminal, and prints its outcome.
func (o *RunOptions) Run(ctx context.Context) error {
	start := time.Now()
	m, to, err := o.Repo.target(ctx, o.env, &o.Target, o.ErrOut)
	if err != nil {
		return err
	}
	noteTo(o.ErrOut, o.Target.Note)
	cl, err := o.env.Cluster(ctx)
	if err != nil {
		return err
	}
	deps := upgrade.Deps{Helm: cl.Action, Kube: cl.Clients.Kube, Dynamic: cl.Clients.Dynamic, Exec: cl.runExec(), Server: o.env.serverVersion(cl),
		Charts: func(v values.Values) (upgrade.Repository, error) {
			if !o.ShowSecrets {
				hideValues(o.ErrOut, v)
			}
			return o.Repo.source(o.env, v, o.In, o.ErrOut)
		},
		Admin: o.Repo.adminSource(),
		Log: func(f string, a ...any) {
			fmt.Fprintf(o.ErrOut, "[%s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(f, a...))
		},
		Note:      func(s string) { fmt.Fprintln(o.ErrOut, s) },
		ShowPlan:  func(p *plan.Plan) { _ = writePlan(o.ErrOut, cli.FormatTable, p, false) },
		AfterStep: afterStep,
	}
	if !o.Yes {
		deps.Confirm = func(prompt string) (bool, error) { return confirm(o.In, o.ErrOut, prompt, false) }
	}
	if o.ShowSecrets {
		fmt.Fprintln(o.ErrOut, "WARNING: --show-secrets: the diff shows Secret data and the secret values of your values files (installation ID, keys, passwords) in clear; do not paste it in a ticket")
	}
	out, err := upgrade.Run(ctx, deps, upgrade.Config{Verb: o.Verb, Namespace: cl.Namespace, Matrix: m, To: to, ValueFiles: o.ValueFiles,
		DryRun: o.DryRun, ShowSecrets: o.ShowSecrets, Resume: o.Resume, SkipBackup: o.SkipBackup, AckAdminSteps: o.AckAdmin, Timeout: o.Timeout, PUMTimeout: o.PUMTimeout, PUMInterval: o.PUMInterval, RetryCommand: o.retryCommand})
	if err == nil && o.DryRun {
		err = writeDiffs(o.Out, o.format, out.Plan, out.Diffs)
	}
	if out != nil && out.Result != nil {
		if werr := writeRunResult(o.Out, o.format, out.Result); werr != nil && err == nil {
			err = werr
		}
	}
	if upgrade.Failed(err) {
		return cli.Failed(err)
	}
	return err
}

func (o *RunOptions) retryCommand(target string) string {
	parts := []string{"helm tpe", string(o.Verb), "--to", target}
	if ns := o.env.Settings.Namespace(); ns != "" {
		parts = append(parts, "-n", ns)
	}
	for _, f := range o.ValueFiles {
		parts = append(parts, "-f", f)
	}
	if o.Target.Manifest != "" {
		parts = append(parts, "--manifest", o.Target.Manifest)
	}
	if o.Repo.Bundle != "" {
		parts = append(parts, "--bundle", o.Repo.Bundle)
	}
	return strings.Join(parts, " ")
}
