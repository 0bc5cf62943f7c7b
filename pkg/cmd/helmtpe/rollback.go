package helmtpe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/manifest"
	"github.com/thingpark-tools/kubectl-tpe/pkg/rollback"
)

// RollbackOptions are the options of `helm tpe rollback`.
type RollbackOptions struct {
	ToRevision int
	Backup     string
	AllCharts  bool
	Yes        bool
	DryRun     bool
	Timeout    time.Duration
	Output     string

	env    *Env
	format cli.Format
	genericiooptions.IOStreams
}

// NewCmdRollback builds `helm tpe rollback`.
func NewCmdRollback(env *Env) *cobra.Command {
	o := &RollbackOptions{Timeout: 20 * time.Minute, Output: "table", env: env, IOStreams: env.Streams}
	cmd := &cobra.Command{
		Use:   "rollback [--to-revision N] [--backup NAME] [--all-charts] [--yes] [--dry-run]",
		Short: "Roll the tpe release back and restore its upgrade backup (the vendor's rollback procedure)",
		Long: templates.LongDesc(`
			Follow the vendor's rollback procedure:

			1. find the backup taken for the upgrade: of the backups helm tpe recorded (one before each
			   hop that upgrades tpe; after a failure in hop N, the one taken before hop N), else of
			   list-backups (newest first), the first whose get-backup-metadatas chart and appVersion
			   match the Helm revision to return to, with the reason (or --backup NAME, which must
			   match too);
			2. roll back the tpe release to that revision (default: the newest revision with another chart
			   version than the current one; it must match a known TPE release unless --to-revision is given);
			3. wait for every Deployment and StatefulSet;
			4. restore the backup after an explicit confirmation: the restore DELETES the current data.
			   --yes skips the prompt only together with --backup NAME.

			Charts 1–3 carry operators and CRDs that only move forward: they are rolled back only with
			--all-charts, which warns about the CRDs involved. --dry-run shows the steps and changes nothing.`),
		Example: templates.Examples(`
			# Show what a rollback would do
			helm tpe rollback --dry-run

			# Roll back and restore, confirming on the terminal
			helm tpe rollback

			# Unattended: the backup must be named
			helm tpe rollback --backup thingpark-enterprise-backup-20231011081240 --yes`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().IntVar(&o.ToRevision, "to-revision", 0, "`REVISION` of tpe to return to (see helm history tpe)")
	cmd.Flags().StringVar(&o.Backup, "backup", "", "backup to restore (default: the upgrade backup)")
	cmd.Flags().BoolVar(&o.AllCharts, "all-charts", false, "also roll back charts 1–3 (operators and CRDs: read the warning)")
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "restore without asking (only with --backup)")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "show the steps, change nothing")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", o.Timeout, "timeout of the rollback and of the wait")
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, wide, json or yaml")
	return cmd
}

// Validate checks the flags (pure).
func (o *RollbackOptions) Validate() error {
	var err error
	if o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML); err != nil {
		return err
	}
	if o.Yes && o.Backup == "" {
		return fmt.Errorf("--yes restores without asking, so it needs --backup NAME: name the backup that will replace the current data")
	}
	if o.ToRevision < 0 {
		return fmt.Errorf("--to-revision must be positive")
	}
	return nil
}

// Run feeds rollback.Run with the flags, the cluster and the terminal, and prints its outcome.
func (o *RollbackOptions) Run(ctx context.Context) error {
	start := time.Now()
	cl, err := o.env.Cluster(ctx)
	if err != nil {
		return err
	}
	m, err := manifest.Load()
	if err != nil {
		return err
	}
	deps := rollback.Deps{Helm: cl.Action, Kube: cl.Clients.Kube, Exec: cl.Exec,
		Log: func(f string, a ...any) {
			fmt.Fprintf(o.ErrOut, "[%s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(f, a...))
		},
		Warn:     func(w string) { fmt.Fprintf(o.ErrOut, "WARNING: %s\n", w) },
		ShowPlan: func(p *rollback.Plan) { _ = writeRollbackPlan(o.ErrOut, cli.FormatTable, p) },
		ConfirmRestore: func(prompt string) (bool, error) {
			if o.Yes {
				return true, nil
			}
			return confirm(o.In, o.ErrOut, prompt+" Type yes to restore", true)
		},
	}
	if !o.Yes {
		deps.Confirm = func(prompt string) (bool, error) { return confirm(o.In, o.ErrOut, prompt, false) }
	}
	out, err := rollback.Run(ctx, deps, rollback.Config{Namespace: cl.Namespace, Matrix: m, ToRevision: o.ToRevision,
		Backup: o.Backup, AllCharts: o.AllCharts, DryRun: o.DryRun, Timeout: o.Timeout})
	err = rollbackFlagNames(err)
	switch {
	case err != nil && out != nil && out.Result != nil:
		return cli.Failed(err)
	case err != nil:
		return err
	case o.DryRun:
		return writeRollbackPlan(o.Out, o.format, out.Plan)
	case !o.format.IsTable():
		return cli.WriteData(o.Out, o.format, out.Result)
	}
	fmt.Fprintln(o.Out, out.Result.Message)
	return nil
}

func writeRollbackPlan(w io.Writer, f cli.Format, p *rollback.Plan) error {
	if !f.IsTable() {
		return cli.WriteData(w, f, p)
	}
	w, done := cli.Fit(w, f)
	defer done()
	fmt.Fprintf(w, "Namespace: %s\n", p.Namespace)
	fmt.Fprintf(w, "tpe:       revision %d (%s, appVersion %s) → revision %d (%s, appVersion %s", p.FromRevision, p.FromChart, p.FromAppVersion, p.ToRevision, p.ToChart, p.ToAppVersion)
	if p.ToRelease != "" {
		fmt.Fprintf(w, ", TPE %s", p.ToRelease)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "Backup:    %s (%s; chart %s, appVersion %s, taken %s)\n", p.Backup.Name, p.BackupSource, p.Backup.Chart, p.Backup.AppVersion, p.Backup.Time)
	if p.BackupReason != "" {
		fmt.Fprintf(w, "Why:       %s\n", p.BackupReason)
	}
	fmt.Fprintln(w, "Steps:")
	for i, s := range p.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	return nil
}

// rollbackFlagNames words an input error of rollback.Run with this command's flags.
func rollbackFlagNames(err error) error {
	var ie *rollback.InputError
	if !errors.As(err, &ie) {
		return err
	}
	flag := map[string]string{rollback.FieldToRevision: "--to-revision", rollback.FieldBackup: "--backup",
		rollback.FieldAllCharts: "--all-charts"}[ie.Field]
	if ie.Needed && ie.Field == rollback.FieldBackup {
		flag += " NAME"
	}
	return &wordedError{msg: ie.Word(flag), err: err}
}

// wordedError is an error of the library worded by the command, with the same chain.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }
