package kubectltpe

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/thingpark-tools/kubectl-tpe/pkg/cli"
	"github.com/thingpark-tools/kubectl-tpe/pkg/podexec"
	"github.com/thingpark-tools/kubectl-tpe/pkg/pum"
	"github.com/thingpark-tools/kubectl-tpe/pkg/text"
)

// PUMRestartOptions are the options of `kubectl tpe pum restart`.
type PUMRestartOptions struct {
	Yes bool

	Namespace string
	Exec      podexec.Executor
	// Interactive says whether the user can be asked; nil means "is In a terminal".
	Interactive *bool

	genericiooptions.IOStreams
}

// NewCmdPUMRestart builds `kubectl tpe pum restart`.
func NewCmdPUMRestart(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &PUMRestartOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:     "restart [--yes]",
		Short:   "Run the post-upgrade procedure again, then show its status",
		Long:    pumRestartLong,
		Example: fmt.Sprintf(pumRestartExample, DisplayName),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := completeInTPE(cmd.Context(), f, o.ErrOut, &o.Exec, &o.Namespace, pumExec); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", o.Yes, "do not ask for confirmation")
	return cmd
}

// Run confirms, restarts and shows the status.
func (o *PUMRestartOptions) Run(ctx context.Context) error {
	if err := pumMissing(ctx, o.Exec, o.Namespace); err != nil {
		return err // nothing to restart: do not ask
	}
	if !o.Yes {
		interactive := cli.IsTerminal(o.In)
		if o.Interactive != nil {
			interactive = *o.Interactive
		}
		if !interactive {
			return fmt.Errorf("refusing to restart the post-upgrade procedure in namespace %s without confirmation: stdin is not a terminal; pass --yes", o.Namespace)
		}
		ok, err := cli.ReadAnswer(o.In, o.ErrOut, fmt.Sprintf("Restart the post-upgrade procedure in namespace %s? Every pending request is processed again.", o.Namespace), false)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not restarted: not confirmed")
		}
	}
	out, err := pum.Restart(ctx, o.Exec, o.Namespace)
	if err != nil {
		return explainPUM(ctx, o.Exec, err)
	}
	if out != "" {
		fmt.Fprintln(o.ErrOut, text.Safe(out))
	}
	fmt.Fprintf(o.ErrOut, "post-upgrade procedure restarted in namespace %s\n", o.Namespace)
	st, err := pum.Get(ctx, o.Exec, o.Namespace)
	if err != nil {
		return fmt.Errorf("restarted, but reading the status afterwards failed: %w", err)
	}
	for _, w := range st.Warnings {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", text.Safe(w))
	}
	return writePUMTable(o.Out, st, time.Now())
}
