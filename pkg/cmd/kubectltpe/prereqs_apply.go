package kubectltpe

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/kube"
	"github.com/thingpark-tools/kubectl-tpe/pkg/prereq"
)

func newCmdPrereqsApply(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := NewPrereqsOptions(streams)
	o.Output = "table"
	cmd := &cobra.Command{
		Use:     "apply",
		Short:   "Create the cluster-wide objects, or apply the cluster-admin steps of an upgrade (--to)",
		Long:    prereqsApplyLong,
		Example: fmt.Sprintf(prereqsApplyExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to") || cmd.Flags().Changed("tpe-version") {
				o.Steps.To = o.Config.TPEVersion
			}
			if err := o.Validate(true); err != nil {
				return err
			}
			clients, err := clientsFor(cmd.Context(), f, o.ErrOut)
			if err != nil {
				return err
			}
			if o.stepsMode() {
				return o.RunSteps(cmd.Context(), clients)
			}
			return o.RunApply(cmd.Context(), clients)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().Lookup("to").Usage = "Target TPE `RELEASE`: without --hosting, apply the cluster-admin steps of every hop up to it (e.g. v8.0.0); with --hosting, the release whose objects are applied (on eks, 8.0 uses gp3 StorageClasses, 7.x gp2) (alias: --tpe-version)"
	o.Steps.add(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "Output format: table, wide, json or yaml")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", o.DryRun, `"none", "client" (only reads) or "server" (validated by the API server, not persisted)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = prereq.DryRunClient
	cmd.Flags().BoolVar(&o.ForceConflicts, "force-conflicts", o.ForceConflicts, "Take over fields owned by another field manager")
	return cmd
}

// validateApply checks the flags of prereqs apply common to both modes.
func (o *PrereqsOptions) validateApply() error {
	var err error
	o.format, err = cli.ParseFormat(o.Output, cli.FormatTable, cli.FormatJSON, cli.FormatYAML)
	if err != nil {
		return err
	}
	switch o.DryRun {
	case prereq.DryRunNone, prereq.DryRunClient, prereq.DryRunServer:
	default:
		return fmt.Errorf(`--dry-run must be "none", "client" or "server", got %q`, o.DryRun)
	}
	if o.ForceConflicts && o.DryRun == prereq.DryRunClient {
		return fmt.Errorf("--force-conflicts has no effect with --dry-run=client: use --dry-run=server")
	}
	return nil
}

// RunApply applies the objects and reports per object.
func (o *PrereqsOptions) RunApply(ctx context.Context, clients *kube.Clients) error {
	if o.note != "" {
		fmt.Fprintf(o.ErrOut, "Note: %s\n", o.note)
	}
	res, err := prereq.Apply(ctx, clients.Kube, prereq.Build(o.Config), prereq.ApplyOptions{DryRun: o.DryRun, ForceConflicts: o.ForceConflicts})
	if err != nil {
		return err
	}
	o.addHints(res)
	failed := 0
	for _, r := range res {
		if r.Failed() {
			failed++
		}
	}
	switch o.format {
	case cli.FormatJSON, cli.FormatYAML:
		if err := cli.WriteData(o.Out, o.format, map[string]any{"dryRun": o.DryRun, "fieldManager": prereq.FieldManager, "results": res}); err != nil {
			return err
		}
	default:
		out, done := cli.Fit(o.Out, o.format)
		defer done()
		t := cli.NewTable(out, "KIND", "NAME", "RESULT", "MESSAGE")
		for _, r := range res {
			t.Row(r.Kind, r.Name, r.Action, r.Message)
		}
		if err := t.Render(); err != nil {
			return err
		}
		mode := ""
		if o.DryRun != prereq.DryRunNone {
			mode = fmt.Sprintf(" (dry run: %s)", o.DryRun)
		}
		fmt.Fprintf(out, "\n%d object(s), %d failed or in conflict%s\n", len(res), failed, mode)
	}
	if failed > 0 {
		return cli.Silent
	}
	return nil
}

// addHints words with this command's flags what to do about a result: take over a conflict, or
// learn from the server what a client-side dry run cannot tell.
func (o *PrereqsOptions) addHints(res []prereq.Result) {
	for i := range res {
		switch {
		case res[i].Action == prereq.ActionConflict:
			res[i].Message += ", or re-run with --force-conflicts to take them over"
		case res[i].Action == prereq.ActionWouldConfigure && o.DryRun == prereq.DryRunClient:
			res[i].Message += "; --dry-run=server tells whether another field manager owns the fields"
		}
	}
}
